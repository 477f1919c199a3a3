"""Deploying the model application on a Ray cluster (`aidj models serve`), bounded in time.

Why not plain ``serve.run``: it waits for the replicas without a bound, and a replica that
asks for a GPU no node has waits for ever. Here the deploy is started without blocking and
its status polled until it runs, fails, or ``timeout_s`` passes, each with a clear error.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from adapters.models import ray_cluster
from adapters.models.options import ModelOptions
from adapters.models.serve_options import ServeOptions
from core.errors import WorkerError

_POLL_S = 0.5


@dataclass(frozen=True)
class Deployed:
    """Where the application now runs; ``joined``: this process connected to Ray (and owns
    the cluster when it started a local one)."""

    gcs_address: str
    app: str
    joined: bool


def deploy(
    options: ModelOptions, serving: ServeOptions, *, app: str, address: str, timeout_s: float
) -> Deployed:
    """Deploy (or update) the application ``app`` on the cluster at ``address`` (``local``:
    a Ray started in this process) and wait until every replica has loaded the models."""
    joined = ray_cluster.join(address)
    try:
        import ray
        from ray import serve

        from adapters.models.serve_app import build_app

        serve.start(proxy_location="Disabled")  # the bots call through handles, not HTTP
        serve._run(build_app(options, serving), _blocking=False, name=app, route_prefix=None)
        wait_until_running(app, timeout_s)
    except BaseException:
        ray_cluster.leave(joined)
        raise
    return Deployed(ray.get_runtime_context().gcs_address, app, joined)


def wait_until_running(app: str, timeout_s: float) -> None:
    """Return once ``app`` runs; ``WorkerError`` with Serve's reason if it fails or is still
    not running after ``timeout_s``."""
    from ray import serve
    from ray.serve.schema import ApplicationStatus

    deadline = time.monotonic() + timeout_s
    while True:
        status = serve.status().applications.get(app)
        if status is not None and status.status == ApplicationStatus.RUNNING:
            return
        if status is not None and status.status == ApplicationStatus.DEPLOY_FAILED:
            raise WorkerError(f"deploying {app!r} failed: {_reason(status)}")
        if time.monotonic() >= deadline:
            state = status.status if status is not None else "not created"
            raise WorkerError(
                f"{app!r} was not running after {timeout_s:g} s ({state}): {_reason(status)}"
            )
        time.sleep(_POLL_S)


def _reason(status: object) -> str:
    """The first thing Serve says about the application or one of its deployments."""
    messages = [getattr(status, "message", "")]
    for deployment in getattr(status, "deployments", {}).values():
        messages.append(deployment.message)
    text = next((m for m in messages if m), "no reason given")
    return text.strip().splitlines()[0][:400]
