"""Every metric `aidj run` exports, defined in this one place (Prometheus, prometheus_client).

Each ``Metrics`` has a registry of its own rather than the library's global one, so one
process can hold several (the tests do) and ``/metrics`` shows AI DJ's series only. The
recording methods are what the other parts call: the request trace at the end of a request,
the model worker per batch and per crash, the model server's reader per answer and per
resend, the Spotify retry policy per attempt.
"""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

# seconds: a photo's download and a send take tenths, a CPU analysis up to seconds
STEP_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
BATCH_BUCKETS = (1, 2, 3, 4, 6, 8, 12, 16, 24, 32)


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        registry = self.registry
        self.cards = Counter(
            "aidj_cards",
            "Cards delivered, by platform and kind (photo: a new card; control: a steered one).",
            ["platform", "kind"],
            registry=registry,
        )
        self.card_failures = Counter(
            "aidj_card_failures",
            "Requests that ended without a card, by platform, kind and reason.",
            ["platform", "kind", "reason"],
            registry=registry,
        )
        self.rate_limited = Counter(
            "aidj_rate_limited",
            "Requests refused by the per-user rate limit, by platform and kind.",
            ["platform", "kind"],
            registry=registry,
        )
        self.step_seconds = Histogram(
            "aidj_request_step_seconds",
            "Time spent in each step of a request: download, analysis (the model worker), "
            "recommend, picture, spotify, send.",
            ["step"],
            buckets=STEP_BUCKETS,
            registry=registry,
        )
        self.worker_batch_size = Histogram(
            "aidj_worker_batch_size",
            "Requests the model worker answered together in one forward pass.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.worker_restarts = Counter(
            "aidj_worker_restarts",
            "Times the model worker process died and was started again.",
            registry=registry,
        )
        self.server_batch_size = Histogram(
            "aidj_model_server_batch_size",
            "For each answer from the model server (AIDJ_MODEL_SERVER), the size of the batch "
            "its replica read it in (a batch of n shared with this process counts n times).",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.server_resends = Counter(
            "aidj_model_server_resends",
            "Requests sent to the model server again because their replica died (Serve "
            "restarts it): the model server's counterpart of the worker's restarts.",
            registry=registry,
        )
        self.queue_depth = Gauge(
            "aidj_model_queue_depth",
            "Requests sent to the model worker (or model server) and not answered yet.",
            registry=registry,
        )
        self.spotify_calls = Counter(
            "aidj_spotify_calls",
            "Spotify API attempts by call and status (ok, an HTTP status, or timeout, "
            "connection, unreached, auth).",
            ["call", "status"],
            registry=registry,
        )

    # -- recorded by the request trace ---------------------------------------------------

    def request_finished(
        self, platform: str, kind: str, outcome: str, steps: dict[str, float]
    ) -> None:
        for step, seconds in steps.items():
            self.step_seconds.labels(step).observe(seconds)
        if outcome == "ok":
            self.cards.labels(platform, kind).inc()
        elif outcome == "rate_limited":
            self.rate_limited.labels(platform, kind).inc()
        else:
            self.card_failures.labels(platform, kind, outcome).inc()

    # -- recorded by the model worker (``adapters.models.worker.WorkerEvents``) ----------

    def batch_answered(self, size: int) -> None:
        self.worker_batch_size.observe(size)

    def restarting(self) -> None:
        self.worker_restarts.inc()

    # -- recorded by the model server's reader (``adapters.models.serve_reader``) -------

    def served_in_batch(self, size: int) -> None:
        self.server_batch_size.observe(size)

    def resent(self) -> None:
        self.server_resends.inc()

    def watch_queue(self, depth: Callable[[], int]) -> None:
        """Read the queue depth from ``depth`` at every scrape."""
        self.queue_depth.set_function(depth)

    # -- recorded by the Spotify retry policy --------------------------------------------

    def spotify_call(self, call: str, status: str) -> None:
        self.spotify_calls.labels(call, status).inc()
