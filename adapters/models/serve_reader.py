"""The bots' side of the model server: the ``MoodReader`` protocol over a Ray Serve handle.

Why: with ``AIDJ_MODEL_SERVER`` set the bot process loads no model and no torch; it sends
(photo, caption) to the Serve application ``serve_app`` deployed and gets the reading back,
through the same ``async analyze(image, caption) -> Reading`` as the local worker, so the
flow cannot tell them apart. Failures end the same way too:

- a replica that dies with the request on it (Serve starts another): sent again once, then
  ``WorkerError``, like a request the local worker crashed on twice;
- every replica busy and this caller's queue full (``max_queued_requests``): ``WorkerError``
  at once, the "busy, try again" reply, rather than a place in an unbounded queue;
- no answer within ``worker_timeout_s`` over both tries: ``WorkerError``, and the request
  is cancelled on the cluster;
- the user's own input (a broken photo) is answered with its own error, as the worker does.

Two ways to a replica. Ray hands an argument over 100 KB (a photo) through its object store:
on this 2-core machine a request that way took 9.2-9.9 ms longer than through the local
worker's pipe (``bench.serve --cases paired --tiny``). Serve can also send a request by value
over the replica's own gRPC channel (``_by_reference=False`` handles): 6.2-7.2 ms. That channel
slows down on large messages (a no-op call with 700 KB took 10.7 ms against 8.0 through the
object store), so photos up to ``direct_max_bytes`` go straight to the replica, and larger
ones, resends and everything through the Ray Client (``ray://``, which reaches only the
head) go through Ray.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any, Protocol

from adapters.models import ray_cluster
from adapters.models.options import ModelOptions
from adapters.models.serve_options import DIRECT_MAX_BYTES, ModelServer
from core.errors import WorkerError
from core.mood import Reading

log = logging.getLogger(__name__)

_MAX_ATTEMPTS = 2  # a request survives one replica's death, not two


class ServeEvents(Protocol):
    """What a caller may want to count (``bot.metrics`` does): each answer with the size of
    the batch the replica read it in, and each request resent after its replica died."""

    def served_in_batch(self, size: int) -> None: ...

    def resent(self) -> None: ...


@dataclass(frozen=True)
class ServeStats:
    """What this caller has seen: answers, the largest batch one was read in, resends, and
    requests sent straight to a replica (by value) rather than through Ray's object store."""

    answered: int
    largest_batch: int
    resent: int
    direct: int


class ServeReader:
    """Use ``async with ServeReader(server, options)``; ``start`` fails with ``WorkerError``
    when the cluster or the application cannot be reached. ``direct_max_bytes``: the largest
    photo sent straight to a replica (0: every request through Ray's object store)."""

    def __init__(
        self,
        server: ModelServer,
        options: ModelOptions,
        *,
        events: ServeEvents | None = None,
        direct_max_bytes: int = DIRECT_MAX_BYTES,
    ) -> None:
        self._server = server
        self._options = options
        self._events = events
        self._direct_max_bytes = 0 if server.through_ray_client else direct_max_bytes
        self._handle: Any = None  # analyze() through Ray
        self._direct_handle: Any = None  # analyze() by value, over the replica's gRPC
        self._joined = False
        self._closing = False
        self._in_flight = 0
        self._answered = 0
        self._largest_batch = 0
        self._resent = 0
        self._direct = 0

    async def __aenter__(self) -> ServeReader:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def stats(self) -> ServeStats:
        return ServeStats(self._answered, self._largest_batch, self._resent, self._direct)

    @property
    def serving(self) -> bool:
        """Connected to the application and not closing."""
        return self._handle is not None and not self._closing

    @property
    def queue_depth(self) -> int:
        """Requests sent from this process and not answered yet."""
        return self._in_flight

    async def start(self) -> None:
        """Join the cluster and find the application, within ``worker_start_timeout_s``."""
        self._closing = False
        try:
            async with asyncio.timeout(self._options.worker_start_timeout_s):
                # in a thread: off the loop, and Ray sets its own SIGTERM handler (exit at
                # once) only when joined from the main thread; `aidj run` stops gently on it
                self._joined = await asyncio.to_thread(ray_cluster.join, self._server.address)
                self._handle, self._direct_handle = await asyncio.to_thread(self._app_handles)
        except TimeoutError:
            raise WorkerError(
                f"no answer from the Ray cluster at {self._server.address} within "
                f"{self._options.worker_start_timeout_s:g} s"
            ) from None
        except BaseException:
            await self.close()
            raise
        log.info("model server: application %r on %s", self._server.app, self._server.address)

    async def analyze(self, image: bytes, caption: str) -> Reading:
        """Read one photo and caption on a replica; raises the input's ``AIDJError``, or
        ``WorkerError`` when the server is busy, lost the request twice or was too slow."""
        if self._handle is None or self._closing:
            raise WorkerError("the model server is not connected")
        timeout = self._options.worker_timeout_s
        self._in_flight += 1
        try:
            async with asyncio.timeout(timeout):
                result, batch_size = await self._answer(image, caption)
        except TimeoutError:
            raise WorkerError(f"the model server did not answer within {timeout:g} s") from None
        finally:
            self._in_flight -= 1
        self._answered += 1
        self._largest_batch = max(self._largest_batch, batch_size)
        if self._events is not None:
            self._events.served_in_batch(batch_size)
        if isinstance(result, Exception):
            raise result
        return result

    async def close(self) -> None:
        """Disconnect from Ray if ``start`` connected (not a connection someone else made)."""
        self._closing = True
        self._handle = self._direct_handle = None
        joined, self._joined = self._joined, False
        await asyncio.to_thread(ray_cluster.leave, joined)

    # -- internals -------------------------------------------------------------------

    def _app_handles(self) -> tuple[Any, Any]:
        """The application's ``analyze`` through Ray, and by value (None when not used)."""
        from ray.serve import get_app_handle
        from ray.serve.exceptions import RayServeException

        try:
            handle = get_app_handle(self._server.app)
        except RayServeException as error:
            raise WorkerError(
                f"no model application {self._server.app!r} on the Ray cluster at "
                f"{self._server.address} ({error}); deploy it with `aidj models serve`"
            ) from None
        through_ray = handle.options(method_name="analyze")
        if self._direct_max_bytes <= 0:
            return through_ray, None
        return through_ray, through_ray.options(_by_reference=False)

    async def _answer(self, image: bytes, caption: str) -> tuple[Any, int]:
        """The replica's answer; one resend when the replica died with the request on it
        (through Ray: a replica's gRPC port the bots cannot reach looks the same)."""
        direct = self._direct_handle is not None and len(image) <= self._direct_max_bytes
        for attempt in range(1, _MAX_ATTEMPTS + 1):
            try:
                return await self._call(image, caption, direct=direct)
            except _ReplicaLost as lost:
                if attempt == _MAX_ATTEMPTS:
                    raise WorkerError("the model server lost this request twice") from lost.cause
                self._resent += 1
                if self._events is not None:
                    self._events.resent()
                log.warning("%s (%s); resending through Ray", _LOST[direct], lost)
                direct = False
        raise AssertionError("unreachable")

    async def _call(self, image: bytes, caption: str, *, direct: bool) -> tuple[Any, int]:
        from grpc.aio import AioRpcError
        from ray.exceptions import RayActorError, RayError, RayTaskError
        from ray.serve.exceptions import BackPressureError, RayServeException

        if direct:
            self._direct += 1
        response = (self._direct_handle if direct else self._handle).remote(image, caption)
        try:
            answer: tuple[Any, int] = await response
            return answer
        except asyncio.CancelledError:
            response.cancel()  # timed out (or shut down): free its place on the replica
            raise
        except BackPressureError:
            raise WorkerError("the model server is busy: its queue is full") from None
        except RayActorError as error:
            raise _ReplicaLost(error) from None
        except RayTaskError as error:
            if isinstance(error.cause, RayActorError):
                raise _ReplicaLost(error.cause) from None
            raise WorkerError(f"the model server failed: {_cause_name(error)}") from error
        except (RayError, RayServeException) as error:
            raise WorkerError(f"the model server failed: {type(error).__name__}") from error
        except AioRpcError as error:  # by value; Serve turns UNAVAILABLE into RayActorError
            raise WorkerError(f"the model server failed: gRPC {error.code().name}") from error


_LOST = {
    False: "a model replica died with a request on it",
    True: "a model replica died with a request on it, or its gRPC port cannot be reached "
    "from here (AIDJ_SERVE_DIRECT_MAX_KB=0 sends every photo through Ray)",
}


class _ReplicaLost(Exception):
    """The replica serving a request died before answering it."""

    def __init__(self, cause: BaseException) -> None:
        super().__init__(type(cause).__name__)
        self.cause = cause


def _cause_name(error: Any) -> str:
    cause = getattr(error, "cause", None)
    return type(cause).__name__ if cause is not None else type(error).__name__
