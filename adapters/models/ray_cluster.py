"""Joining a Ray cluster from this process, with a bound and a clear error.

Shared by the Serve reader (a bot process) and the deployer (`aidj models serve`). Why a TCP
probe before ``ray.init``: against an address where nothing listens, Ray retries for a long
while (longer still through the Ray Client's ``ray://``) before it says so; the probe turns
that into one line at once. Ray is imported here, inside the functions, so the base install
(no ``serve`` extra) never needs it.
"""

from __future__ import annotations

import logging
import re
import socket
from typing import Any

from core.errors import WorkerError

PROBE_TIMEOUT_S = 5.0


def join(address: str, *, probe_timeout_s: float = PROBE_TIMEOUT_S) -> bool:
    """Connect this process to the Ray cluster at ``address`` (``local`` starts one here).

    Returns True if this call connected (so the caller disconnects at the end), False if
    this process was already connected (a test's cluster, or a second reader)."""
    ray = require_ray()
    endpoint = host_port(address)
    if endpoint is not None:
        probe(*endpoint, timeout_s=probe_timeout_s)
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
    except (ConnectionError, RuntimeError, ValueError) as error:
        reason = AUTH_HINT if _refused_for_token(error) else _first_line(error)
        raise WorkerError(f"could not join the Ray cluster at {address}: {reason}") from None
    return True


AUTH_HINT = (
    "it asks for its token: set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN "
    "(`ray get-auth-token` on the head prints it)"
)


def _refused_for_token(error: BaseException) -> bool:
    """Whether Ray's token authentication is why the connection failed (it is on by default
    for a cluster Ray starts, and off by default for a process that joins one)."""
    from ray.exceptions import AuthenticationError

    seen: BaseException | None = error
    while seen is not None:
        if isinstance(seen, AuthenticationError) or "InvalidAuthToken" in str(seen):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def require_ray() -> Any:
    """The ``ray`` module, or ``WorkerError`` saying how to install it."""
    try:
        import ray
    except ImportError:
        raise WorkerError("Ray is not installed here: pip install 'aidj[serve]'") from None
    return ray


def leave(joined: bool) -> None:
    """Disconnect if ``join`` connected (a local cluster it started stops with it)."""
    if joined:
        import ray

        ray.shutdown()


def host_port(address: str) -> tuple[str, int] | None:
    """``host:port``, also behind a scheme (``ray://host:10001``); None for ``auto``/``local``."""
    match = re.fullmatch(r"(?:[a-z][a-z0-9+.-]*://)?\[?([^\[\]/]+?)\]?:(\d{1,5})", address)
    if match is None:
        return None
    return match[1], int(match[2])


def probe(host: str, port: int, *, timeout_s: float) -> None:
    """Raise ``WorkerError`` unless something accepts TCP connections at ``host:port``."""
    try:
        with socket.create_connection((host, port), timeout=timeout_s):
            pass
    except OSError as error:
        reason = error.strerror or type(error).__name__
        raise WorkerError(f"no Ray cluster answers at {host}:{port} ({reason})") from None


def _first_line(error: BaseException) -> str:
    lines = str(error).strip().splitlines()
    return lines[0][:300] if lines else type(error).__name__
