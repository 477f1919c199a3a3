"""How a model download shows its progress: bars on a terminal, lines in a log.

The hub client draws a file's progress with whatever tqdm-like class it is given, built with
``total=`` and ``initial=`` (a resumed download starts part way) and fed ``update(n)``. A
class that is not the hub's own tqdm is left alone by its "disable progress bars" switches,
which the model loaders flip while loading.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO, Any

from tqdm import tqdm

from adapters.models.hub import HubFile, total_size

DEFAULT_LOG_EVERY_S = 15.0


def human_size(size: int | None) -> str:
    """Bytes in the largest decimal unit that keeps the number under 1000 ("605.2 MB")."""
    if size is None:
        return "size unknown"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1000
    raise AssertionError("unreachable")


def started_line(model_id: str, files: Sequence[HubFile]) -> str:
    return (
        f"downloading {model_id} ({human_size(total_size(files))}, {len(files)} files) "
        "from the Hugging Face hub"
    )


class TerminalProgress:
    """One tqdm bar per file on ``stream`` (a terminal), left in place when done."""

    def __init__(self, stream: IO[str]) -> None:
        self._stream = stream

    def model_started(self, model_id: str, files: Sequence[HubFile]) -> None:
        print(started_line(model_id, files), file=self._stream, flush=True)

    def bar(self, model_id: str, file: HubFile) -> type:
        stream = self._stream

        class FileBar(tqdm):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                kwargs.pop("name", None)
                kwargs.update(desc=file.name, file=stream, unit="B", unit_scale=True, leave=True)
                super().__init__(*args, **kwargs)

        return FileBar

    def file_done(self, model_id: str, file: HubFile, index: int, count: int) -> None:
        pass  # the bar stays on screen

    def model_done(self, model_id: str, folder: Path, seconds: float) -> None:
        print(f"{model_id}: done in {seconds:.0f} s ({folder})", file=self._stream, flush=True)


class LineProgress:
    """Lines for a log (or a pipe): one when a model starts, one per file when it is in,
    and, while a large file comes in, its share done at most every ``every_s`` seconds."""

    def __init__(
        self,
        emit: Callable[[str], None],
        every_s: float = DEFAULT_LOG_EVERY_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._emit = emit
        self.every_s = every_s
        self.clock = clock

    @classmethod
    def to_log(cls, logger: logging.Logger, every_s: float = DEFAULT_LOG_EVERY_S) -> LineProgress:
        return cls(logger.info, every_s)

    def model_started(self, model_id: str, files: Sequence[HubFile]) -> None:
        self._emit(started_line(model_id, files))

    def bar(self, model_id: str, file: HubFile) -> type:
        reporter = self

        class FileLog(_LoggedBar):
            def __init__(self, *args: Any, **kwargs: Any) -> None:
                super().__init__(reporter, model_id, file, **kwargs)

        return FileLog

    def file_done(self, model_id: str, file: HubFile, index: int, count: int) -> None:
        size = human_size(file.size)
        self._emit(f"{model_id}: {file.name} ({size}) in, file {index} of {count}")

    def model_done(self, model_id: str, folder: Path, seconds: float) -> None:
        self._emit(f"downloaded {model_id} in {seconds:.0f} s to {folder}")

    def progress(self, model_id: str, file: HubFile, done: int, total: int | None) -> None:
        share = f"{done / total:.0%} of " if total else ""
        self._emit(f"{model_id}: {file.name} {share}{human_size(total or done)}")


class _LoggedBar:
    """The tqdm-like object the hub client feeds; tells the reporter now and then."""

    def __init__(
        self,
        reporter: LineProgress,
        model_id: str,
        file: HubFile,
        *,
        total: int | None = None,
        initial: int = 0,
        **_: Any,
    ) -> None:
        self._reporter = reporter
        self._model_id = model_id
        self._file = file
        self.total = total
        self.n = initial
        self._last = reporter.clock()

    def update(self, n: float | None = 1) -> None:
        self.n += int(n or 0)
        now = self._reporter.clock()
        if now - self._last >= self._reporter.every_s:
            self._last = now
            self._reporter.progress(self._model_id, self._file, self.n, self.total)

    def close(self) -> None:
        pass

    def refresh(self) -> None:
        pass

    def __enter__(self) -> _LoggedBar:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
