"""`aidj models serve`: deploy the models as a Ray Serve application for the bots to use.

On the cluster at ``--address`` (or ``RAY_ADDRESS``) the command deploys and returns: the
application keeps running there (the nodes find the models themselves). Without an address
it fetches missing models with progress, starts a local Ray in this process, deploys on it
and keeps running until Ctrl-C or SIGTERM, since that Ray stops with it. Either
way it ends by printing the AIDJ_MODEL_SERVER value the bots need. Needs the ``serve`` extra.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import threading

from adapters.models.serve_options import DEFAULT_APP, parse_replicas
from bot.cli_errors import user_errors


def register(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="run the models on a Ray cluster (Ray Serve) for the bots (AIDJ_MODEL_SERVER)",
        description="Deploy CLIP and NLI as a Ray Serve application. Batching and limits "
        "come from the AIDJ_WORKER_* and AIDJ_SERVE_* settings. Needs `pip install "
        "aidj[serve]` here and on every node of the cluster.",
    )
    serve.add_argument(
        "--address",
        help="the Ray cluster (RAY_ADDRESS; e.g. auto or ray://head:10001); "
        "default: start a local Ray in this process and keep it up until interrupted",
    )
    serve.add_argument("--app", default=DEFAULT_APP, help=f"application name ({DEFAULT_APP})")
    serve.add_argument(
        "--replicas", type=parse_replicas, help="N, or MIN-MAX to autoscale (AIDJ_SERVE_REPLICAS)"
    )
    serve.add_argument("--gpus", type=float, help="GPUs per replica (AIDJ_SERVE_GPUS)")
    serve.add_argument("--cpus", type=float, help="CPUs per replica (AIDJ_SERVE_CPUS)")
    serve.add_argument("--clip-model", help="CLIP model id or path on the nodes (AIDJ_CLIP_MODEL)")
    serve.add_argument("--nli-model", help="NLI model id or path on the nodes (AIDJ_NLI_MODEL)")
    serve.set_defaults(handler=user_errors(run_serve))


def run_serve(args: argparse.Namespace, *, stop: threading.Event | None = None) -> int:
    """Deploy, say where, and (for a local Ray) stay up until ``stop`` or a signal."""
    from adapters.models import ray_cluster
    from adapters.models.serve_deploy import deploy
    from bot.config import load_settings

    settings = load_settings(
        clip_model=args.clip_model,
        nli_model=args.nli_model,
        serve_replicas=args.replicas,
        serve_gpus=args.gpus,
        serve_cpus=args.cpus,
    )
    address = args.address or os.environ.get("RAY_ADDRESS", "").strip() or "local"
    if address == "local":  # the replicas run here: the cached models, or fetched with progress
        from bot.models import prepare

        settings = prepare(dataclasses.replace(settings, model_server=None))
    deployed = deploy(
        settings.model_options(),
        settings.serve_options(),
        app=args.app,
        address=address,
        timeout_s=settings.worker_start_timeout_s,
    )
    where = deployed.gcs_address if address == "local" else address
    # before saying so: a signal sent once the lines are out must find our handler, not Ray's
    stopped = (stop or _stop_on_signals()) if address == "local" else None
    print(f"{args.app!r} is running on the Ray cluster at {deployed.gcs_address}.")
    print(f"Point the bots at it: AIDJ_MODEL_SERVER={where}/{args.app}", flush=True)
    try:
        if stopped is not None:
            print("This process holds that Ray instance: Ctrl-C stops it.", flush=True)
            stopped.wait()
    finally:
        ray_cluster.leave(deployed.joined)  # the application stays on a cluster
    return 0


def _stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    return stop
