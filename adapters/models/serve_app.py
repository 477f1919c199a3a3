"""The model step as a Ray Serve application: the same ``MoodAnalyzer``, batched by Serve.

Why Serve: one process on one machine caps how many photos the bots can read at once. Serve
runs the analyzer in replicas on as many machines (and GPUs) as the cluster has, routes each
request to a replica with room, restarts a replica that dies, and lets each caller refuse
work early (``max_queued_requests``) instead of queueing it forever.

Each replica batches like the local worker, with the same settings (``worker_batch_size``,
``worker_batch_wait_ms``), and answers every request with its result (a ``Reading`` or the
user-facing error for that item, returned rather than raised so it crosses intact) and the
size of the batch it ran in. ``app_from_args`` is the import path of the Serve config file
(``adapters/models/serve.yaml``) for ``serve deploy``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from ray import serve
from ray.serve import Application

from adapters.models.batch_fallback import analyze_items
from adapters.models.options import ModelOptions
from adapters.models.serve_options import ServeOptions

DEPLOYMENT = "MoodAnalyzer"
CONSTRUCTOR_RETRIES = 3  # a replica that cannot load its models fails the deploy soon

# (a Reading or an AIDJError, the size of the batch it was read in)
Answer = tuple[Any, int]


@serve.deployment(name=DEPLOYMENT)
class MoodDeployment:
    """One replica: the analyzer loaded once, requests read in batches."""

    def __init__(self, options: ModelOptions) -> None:
        import ray

        from adapters.models.analyzer import MoodAnalyzer

        if ray.get_gpu_ids() and options.device == "cpu":
            options = options.on_gpu()
        self._analyzer = MoodAnalyzer.load(options)
        batcher: Any = self.read_batch  # serve.batch's wrapper, typed as the plain method
        batcher.set_max_batch_size(max(1, options.worker_batch_size))
        batcher.set_batch_wait_timeout_s(max(0, options.worker_batch_wait_ms) / 1000)

    async def analyze(self, image: bytes, caption: str) -> Answer:
        return await self.read_batch((image, caption))

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.015)  # reset from the options
    async def read_batch(self, items: list[tuple[bytes, str]]) -> list[Answer]:
        # Run on the user-code loop, not in a worker thread. Serve gives user code a loop
        # thread of its own, so Ray's loop still answers health checks and queue probes, and
        # requests that arrive meanwhile join the next batch. In a worker thread, torch ran
        # 15-20% slower here (+45 to +95 ms a request on 2 cores, about 20x the voluntary
        # context switches) than in the same process's loop thread: bench.serve's paired run.
        results = analyze_items(self._analyzer, items)
        return [(result, len(items)) for result in results]


def deployment_options(serving: ServeOptions) -> dict[str, Any]:
    """``Deployment.options`` for ``serving``: replicas or autoscaling, hardware, limits."""
    options: dict[str, Any] = {
        "ray_actor_options": {"num_cpus": serving.cpus, "num_gpus": serving.gpus},
        "max_ongoing_requests": serving.max_ongoing,
        "max_queued_requests": serving.max_queued,
        "max_constructor_retry_count": CONSTRUCTOR_RETRIES,
    }
    if serving.autoscaling:
        options["autoscaling_config"] = {
            "min_replicas": serving.min_replicas,
            "max_replicas": serving.max_replicas,
            "target_ongoing_requests": serving.target_ongoing,
        }
    else:
        options["num_replicas"] = serving.min_replicas
    return options


def build_app(options: ModelOptions, serving: ServeOptions) -> Application:
    """The application ``serve.run`` deploys (and the config file builds)."""
    deployment: Any = MoodDeployment  # a serve.Deployment, typed as the class it wraps
    return deployment.options(**deployment_options(serving)).bind(options)


def app_from_args(args: dict[str, Any]) -> Application:
    """Application builder for ``serve deploy``: ``args`` names fields of ``ModelOptions``
    (clip_model, worker_batch_size, ...) and of ``ServeOptions`` (max_replicas, gpus, ...)."""
    model_fields = {f.name for f in dataclasses.fields(ModelOptions)}
    serve_fields = {f.name for f in dataclasses.fields(ServeOptions)}
    unknown = sorted(set(args) - model_fields - serve_fields)
    if unknown:
        known = ", ".join(sorted(model_fields | serve_fields))
        raise ValueError(f"unknown args {', '.join(unknown)} (known: {known})")
    options = ModelOptions(**{k: v for k, v in args.items() if k in model_fields})
    serving = ServeOptions(**{k: v for k, v in args.items() if k in serve_fields})
    return build_app(options, serving)
