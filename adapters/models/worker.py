"""The model worker: CLIP and the NLI model in a process of their own.

Why a process: a forward pass holds the GIL for hundreds of milliseconds on a CPU, which
would freeze both chat clients' heartbeats if it ran in their event loop (or in a thread of
it). The worker loads the models once, then serves requests from a queue, micro-batching
those that arrive within a few milliseconds of each other into one CLIP batch and one NLI
batch. If a batch call raises, its items are run one by one, so only the item that breaks it
gets an error and the others their readings.

The async client (``ModelWorker``) never blocks its event loop: requests go out through a
``multiprocessing.Queue`` (whose feeder thread does the pickling and the pipe writes) and
answers come back through a reader thread that resolves asyncio futures. If the process
dies, the reader notices, a fresh worker is started, and requests still in flight are sent
again once; a request that was in flight during two crashes gets a ``WorkerError`` (it may be
the cause). Every call is bounded by a timeout, so a caller never hangs. A dead worker's
request queue is closed without joining its feeder thread, so a crash can never keep the
process from exiting.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import multiprocessing as mp
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.context import SpawnProcess
from typing import Any, Protocol

from adapters.models.batch_fallback import analyze_items
from adapters.models.options import ModelOptions
from core.errors import AIDJError, ModelLoadError, WorkerError
from core.mood import Reading

log = logging.getLogger(__name__)

_MAX_ATTEMPTS = 2  # a request survives one worker crash, not two
_POLL_S = 0.2  # how often the reader checks that the worker is alive


class WorkerEvents(Protocol):
    """What the client tells an observer (metrics); called from its reader thread or loop."""

    def batch_answered(self, size: int) -> None: ...

    def restarting(self) -> None: ...


class _NoEvents:
    def batch_answered(self, size: int) -> None:
        pass

    def restarting(self) -> None:
        pass


@dataclass(frozen=True)
class WorkerStats:
    """What the worker has done: (re)starts, answers, the largest batch.

    Not test-only, though only tests read it so far: these are the worker's health figures
    (the batch size comes back from the process with each answer for this), and the
    worker's metrics are to report them from here rather than count a second time."""

    starts: int
    answered: int
    largest_batch: int


# ---------------------------------------------------------------- the worker process


def load_analyzer(options: ModelOptions) -> Any:
    """The worker's default analyzer; imported here so the client never loads torch."""
    from adapters.models.analyzer import MoodAnalyzer

    return MoodAnalyzer.load(options)


def _serve(
    options: ModelOptions, requests: Any, answers: Any, load: Callable[[ModelOptions], Any]
) -> None:
    """The worker process' main loop: load once, then answer batches until told to stop."""
    try:
        analyzer = load(options)
    except AIDJError as error:
        answers.put(("fatal", error))
        return
    except Exception as error:  # anything else while loading is still a load failure
        answers.put(("fatal", ModelLoadError(f"could not load the models: {error}")))
        return
    answers.put(("ready", None))
    max_batch = max(1, options.worker_batch_size)
    wait_s = max(0, options.worker_batch_wait_ms) / 1000
    while True:
        first = requests.get()
        if first is None:
            return
        batch = [first]
        stop = _collect_batch(requests, batch, max_batch, wait_s)
        _answer_batch(analyzer, batch, answers)
        answers.put(("batch", len(batch)))
        if stop:
            return


def _collect_batch(requests: Any, batch: list[Any], max_batch: int, wait_s: float) -> bool:
    """Add requests that arrive within ``wait_s`` to ``batch``; True if told to stop."""
    deadline = time.monotonic() + wait_s
    while len(batch) < max_batch:
        remaining = deadline - time.monotonic()
        try:
            item = requests.get(timeout=remaining) if remaining > 0 else requests.get_nowait()
        except queue.Empty:
            return False
        if item is None:
            return True
        batch.append(item)
    return False


def _answer_batch(analyzer: Any, batch: list[Any], answers: Any) -> None:
    ids = [request_id for request_id, _, _ in batch]
    results = analyze_items(analyzer, [(image, caption) for _, image, caption in batch])
    for request_id, result in zip(ids, results, strict=True):
        answers.put(("result", request_id, result, len(batch)))


# ---------------------------------------------------------------- the async client


@dataclass
class _Pending:
    future: asyncio.Future[Reading]
    image: bytes
    caption: str
    attempts: int = 1


class ModelWorker:
    """Async client of the model worker process. Use ``async with ModelWorker(options)``."""

    def __init__(
        self,
        options: ModelOptions,
        load: Callable[[ModelOptions], Any] = load_analyzer,
        *,
        events: WorkerEvents | None = None,
    ) -> None:
        """``load`` builds the analyzer inside the worker process; it must be picklable (a
        module-level function or classmethod), e.g. a test's analyzer subclass. ``events``
        hears of every batch answered and every restart."""
        self._options = options
        self._load = load
        self._events: WorkerEvents = events or _NoEvents()
        self._context = mp.get_context("spawn")  # fork would copy the parent's threads/loop
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._process: SpawnProcess | None = None
        self._requests: Any = None
        self._answers: Any = None
        self._generation = 0
        self._restart_lock = asyncio.Lock()
        self._ready = asyncio.Event()
        self._needs_restart = False
        self._closing = False
        self._starts = 0
        self._answered = 0
        self._largest_batch = 0

    async def __aenter__(self) -> ModelWorker:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def stats(self) -> WorkerStats:
        return WorkerStats(self._starts, self._answered, self._largest_batch)

    @property
    def serving(self) -> bool:
        """Whether the worker is up and taking requests (not starting, restarting or gone)."""
        process = self._process
        return (
            self._ready.is_set()
            and not self._closing
            and process is not None
            and process.is_alive()
        )

    @property
    def queue_depth(self) -> int:
        """Requests sent to the worker and not answered yet."""
        return len(self._pending)

    async def start(self) -> None:
        """Start the process and wait until both models are loaded (or fail clearly)."""
        self._loop = asyncio.get_running_loop()
        self._closing = False
        await self._spawn()

    async def analyze(self, image: bytes, caption: str) -> Reading:
        """Read one photo and caption; raises an ``AIDJError`` subclass on bad input,
        ``WorkerError`` when the worker cannot answer in time."""
        if self._loop is None or self._closing:
            raise WorkerError("the model worker is not running")
        if self._needs_restart and not self._restart_lock.locked():
            self._needs_restart = False  # the last restart failed: try again now
            self._loop.create_task(self._restart())
        request_id = next(self._ids)
        future: asyncio.Future[Reading] = self._loop.create_future()
        try:
            async with asyncio.timeout(self._options.worker_timeout_s):
                await self._ready.wait()  # a restart in progress: queue behind it
                self._pending[request_id] = _Pending(future, image, caption)
                self._requests.put((request_id, image, caption))
                return await future
        except TimeoutError:
            raise WorkerError(
                f"the model worker did not answer within {self._options.worker_timeout_s:g} s"
            ) from None
        finally:
            self._pending.pop(request_id, None)

    async def close(self) -> None:
        """Stop the process; callers still waiting get a WorkerError."""
        self._closing = True
        self._ready.clear()
        self._generation += 1  # the reader thread of the current process stops
        if self._requests is not None:
            with contextlib.suppress(Exception):
                self._requests.put(None)
        process = self._process
        if process is not None:
            await asyncio.to_thread(process.join, 10)
            if process.is_alive():
                process.kill()
                await asyncio.to_thread(process.join, 5)
        self._retire_requests()
        self._fail_all(WorkerError("the model worker was stopped"))
        self._process = None

    # -- internals -------------------------------------------------------------------

    async def _spawn(self) -> None:
        requests = self._context.Queue()
        answers = self._context.Queue()
        process = self._context.Process(
            target=_serve,
            args=(self._options, requests, answers, self._load),
            name="aidj-model-worker",
            daemon=True,
        )
        process.start()
        try:
            await asyncio.to_thread(self._await_ready, process, answers)
        except BaseException:
            if process.is_alive():
                process.kill()
            raise
        self._process, self._requests, self._answers = process, requests, answers
        self._generation += 1
        self._starts += 1
        reader = threading.Thread(
            target=self._read_answers,
            args=(process, answers, self._generation),
            name="aidj-model-worker-reader",
            daemon=True,
        )
        reader.start()
        self._ready.set()
        log.info("model worker ready (pid %s)", process.pid)

    def _await_ready(self, process: SpawnProcess, answers: Any) -> None:
        deadline = time.monotonic() + self._options.worker_start_timeout_s
        while time.monotonic() < deadline:
            try:
                kind, payload = answers.get(timeout=_POLL_S)[:2]
            except queue.Empty:
                if not process.is_alive():
                    raise WorkerError(
                        f"the model worker exited while loading (code {process.exitcode})"
                    ) from None
                continue
            if kind == "ready":
                return
            if kind == "fatal":
                raise payload
        raise WorkerError(
            f"the models did not load within {self._options.worker_start_timeout_s:g} s"
        )

    def _read_answers(self, process: SpawnProcess, answers: Any, generation: int) -> None:
        """Reader thread: hand answers to the loop; report the process' death."""
        assert self._loop is not None
        while generation == self._generation:
            try:
                message = answers.get(timeout=_POLL_S)
            except queue.Empty:
                if not process.is_alive():
                    if generation == self._generation and not self._closing:
                        self._loop.call_soon_threadsafe(self._on_crash, generation)
                    return
                continue
            except (EOFError, OSError):
                continue
            if message[0] == "result":
                self._loop.call_soon_threadsafe(self._deliver, *message[1:])
            elif message[0] == "batch":
                self._events.batch_answered(message[1])

    def _deliver(self, request_id: int, result: Reading | Exception, batch_size: int) -> None:
        self._answered += 1
        self._largest_batch = max(self._largest_batch, batch_size)
        pending = self._pending.get(request_id)
        if pending is None or pending.future.done():
            return  # the caller timed out already
        if isinstance(result, Exception):
            pending.future.set_exception(result)
        else:
            pending.future.set_result(result)

    def _on_crash(self, generation: int) -> None:
        if generation != self._generation or self._closing:
            return
        exitcode = self._process.exitcode if self._process else None
        log.warning("model worker died (exit code %s); restarting", exitcode)
        self._events.restarting()
        self._ready.clear()
        self._loop.create_task(self._restart())  # type: ignore[union-attr]

    async def _restart(self) -> None:
        async with self._restart_lock:
            retry: list[tuple[int, _Pending]] = []
            for request_id, pending in list(self._pending.items()):
                if pending.future.done():
                    continue
                if pending.attempts >= _MAX_ATTEMPTS:
                    pending.future.set_exception(
                        WorkerError("the model worker crashed twice on this request")
                    )
                else:
                    pending.attempts += 1
                    retry.append((request_id, pending))
            self._retire_requests()  # the dead worker's; its requests are resent below
            try:
                await self._spawn()
            except AIDJError as error:
                log.error("model worker could not be restarted: %s", error)
                self._needs_restart = True
                self._fail_all(WorkerError("the model worker could not be restarted"))
                return
            for request_id, pending in retry:
                if not pending.future.done():
                    self._requests.put((request_id, pending.image, pending.caption))

    def _retire_requests(self) -> None:
        """Close the request queue of a worker that is gone (or going) and drop it.

        Why: after a crash its feeder thread can be blocked for good on a pipe that nobody
        reads, and multiprocessing joins that thread at exit, so the process would never
        exit, not even on SIGTERM. The thread is a daemon: cancelling the join lets it die
        with the interpreter. Requests it still held are resent by a restart, failed by a stop.
        """
        if self._requests is not None:
            self._requests.close()
            self._requests.cancel_join_thread()
            self._requests = None

    def _fail_all(self, error: WorkerError) -> None:
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.set_exception(error)
