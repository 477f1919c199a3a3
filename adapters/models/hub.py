"""Models from the Hugging Face hub: found in the local cache, or downloaded with progress.

Why not let transformers fetch them: ``from_pretrained`` downloads silently (the loaders turn
its bars off) and takes every weight format a repo carries. Here a model id is looked up in
the hub cache first, without any network call, and the folder found there is what the
loaders get, so a cached model loads the same with the network gone. A missing one is
fetched file by file, the files transformers needs only (configs, tokenizer files, and the
safetensors weights, else the PyTorch ones), small files first and weights last, each with a
progress report (``DownloadProgress``). Since a file only appears in the cache once complete,
a folder that has its weights is a whole download; an interrupted one is resumed next time.

The hub client reads ``HF_ENDPOINT``, ``HF_HOME`` / ``HF_HUB_CACHE``, ``HF_TOKEN`` and
``HF_HUB_OFFLINE`` from the environment; ``HubOptions`` overrides the endpoint and cache.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from adapters.models.loading import looks_local, model_error_message
from core.errors import ModelLoadError

REVISION = "main"
_SMALL_SUFFIXES = frozenset({".json", ".txt", ".model", ".jinja"})
_WEIGHT_INDEXES = ("model.safetensors.index.json", "pytorch_model.bin.index.json")
_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class ModelRef:
    """A configured model and how the owner points at it (for one-line errors)."""

    kind: str  # "CLIP" or "NLI"
    model: str  # a hub id or a local folder
    env_var: str
    flag: str

    @property
    def is_local(self) -> bool:
        return looks_local(self.model) or Path(self.model).expanduser().is_dir()


@dataclass(frozen=True)
class HubOptions:
    """Where the hub is and where its cache lives; None: the hub client's own settings."""

    endpoint: str | None = None
    cache_dir: Path | None = None


DEFAULT_HUB = HubOptions()


@dataclass(frozen=True)
class HubFile:
    name: str
    size: int | None  # bytes, when the hub says


class DownloadProgress(Protocol):
    """What a download reports; ``bar`` is the tqdm-like class the hub client draws one
    file's progress with (constructed with ``total=``/``initial=``, then ``update(n)``)."""

    def model_started(self, model_id: str, files: Sequence[HubFile]) -> None: ...

    def bar(self, model_id: str, file: HubFile) -> type: ...

    def file_done(self, model_id: str, file: HubFile, index: int, count: int) -> None: ...

    def model_done(self, model_id: str, folder: Path, seconds: float) -> None: ...


def total_size(files: Sequence[HubFile]) -> int:
    return sum(file.size or 0 for file in files)


def cached_model(model_id: str, hub: HubOptions = DEFAULT_HUB) -> Path | None:
    """The cache folder of a complete download of ``model_id``; None if there is none. Reads
    the disk only."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(
        model_id, "config.json", cache_dir=_cache(hub), revision=REVISION
    )
    if not isinstance(found, str):
        return None
    folder = Path(found).parent
    return folder if is_complete(folder) else None


def is_complete(folder: Path) -> bool:
    """Whether ``folder`` holds a config and all of its weights (downloads put the weights
    last, and a file shows up only once it is whole)."""
    if not (folder / "config.json").is_file():
        return False
    for index in _WEIGHT_INDEXES:
        if (folder / index).is_file():
            try:
                shards = set(json.loads((folder / index).read_text())["weight_map"].values())
            except (OSError, ValueError, KeyError, TypeError):
                return False
            return all((folder / shard).is_file() for shard in shards)
    return any((folder / name).is_file() for name in _WEIGHT_FILES)


def model_files(ref: ModelRef, hub: HubOptions = DEFAULT_HUB) -> list[HubFile]:
    """The files of ``ref`` that transformers loads, small ones first (asks the hub)."""
    from huggingface_hub import HfApi

    try:
        info = HfApi(endpoint=hub.endpoint).model_info(
            ref.model, revision=REVISION, files_metadata=True
        )
    except Exception as error:
        raise ModelLoadError(_download_failure(ref, error, hub)) from error
    listed = [
        HubFile(s.rfilename, s.lfs.size if s.lfs is not None else s.size)
        for s in info.siblings or ()
    ]
    chosen = select_files(listed)
    if not any(_is_weights(file.name) for file in chosen):
        reason = "the hub has no PyTorch weights for it (safetensors or pytorch_model.bin)"
        raise ModelLoadError(
            model_error_message("download", ref.kind, ref.model, reason, ref.env_var, ref.flag)
        )
    return chosen


def select_files(files: Sequence[HubFile]) -> list[HubFile]:
    """Top-level configs and tokenizer files, then the safetensors weights if the repo has
    them, else the PyTorch ones; other formats (TF, Flax, ONNX) and subfolders are skipped."""
    top = [file for file in files if "/" not in file.name]
    small = [file for file in top if Path(file.name).suffix in _SMALL_SUFFIXES]
    safetensors = [file for file in top if file.name.endswith(".safetensors")]
    pytorch = [
        file for file in top if file.name.startswith("pytorch_model") and file.name.endswith(".bin")
    ]
    weights = safetensors or pytorch
    if safetensors:  # the PyTorch index would name files that are not fetched
        small = [file for file in small if file.name != "pytorch_model.bin.index.json"]
    return sorted(small, key=lambda f: f.name) + sorted(weights, key=lambda f: f.name)


def download_model(
    ref: ModelRef,
    progress: DownloadProgress,
    hub: HubOptions = DEFAULT_HUB,
    local_dir: Path | None = None,
) -> Path:
    """Fetch ``ref``'s files into the hub cache (or ``local_dir``); the folder they are in.
    Files already there are not fetched again. Any failure is one ModelLoadError that names
    the model and the setting that points at it."""
    from huggingface_hub import hf_hub_download

    files = model_files(ref, hub)
    started = time.monotonic()
    progress.model_started(ref.model, files)
    folder: Path | None = local_dir
    for index, file in enumerate(files, start=1):
        try:
            path = hf_hub_download(
                ref.model,
                file.name,
                revision=REVISION,
                cache_dir=_cache(hub),
                local_dir=local_dir,
                endpoint=hub.endpoint,
                tqdm_class=progress.bar(ref.model, file),
            )
        except Exception as error:
            raise ModelLoadError(_download_failure(ref, error, hub, file.name)) from error
        folder = folder or Path(path).parent
        progress.file_done(ref.model, file, index, len(files))
    assert folder is not None  # model_files never returns an empty list
    progress.model_done(ref.model, folder, time.monotonic() - started)
    return folder


def _cache(hub: HubOptions) -> str | None:
    return str(hub.cache_dir) if hub.cache_dir is not None else None


def _is_weights(name: str) -> bool:
    return name.endswith((".safetensors", ".bin"))


def _download_failure(
    ref: ModelRef, error: BaseException, hub: HubOptions, file: str | None = None
) -> str:
    return model_error_message(
        "download", ref.kind, ref.model, download_reason(error, hub, file), ref.env_var, ref.flag
    )


def download_reason(error: BaseException, hub: HubOptions, file: str | None = None) -> str:
    """Why a hub call failed, in words an owner can act on."""
    from huggingface_hub import constants
    from huggingface_hub.errors import (
        GatedRepoError,
        OfflineModeIsEnabled,
        RemoteEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    endpoint = hub.endpoint or constants.ENDPOINT
    status = _status(error)
    if isinstance(error, OfflineModeIsEnabled) or _caused_by(error, OfflineModeIsEnabled):
        return "it is not downloaded yet and HF_HUB_OFFLINE is set"
    if isinstance(error, GatedRepoError):
        return f"the hub only serves it to accepted users (HTTP {status}); set HF_TOKEN"
    if isinstance(error, RepositoryNotFoundError):
        return f"the hub at {endpoint} has no such model (HTTP {status or 404})"
    if isinstance(error, RevisionNotFoundError):
        return f"the hub has no revision {REVISION!r} of it"
    if isinstance(error, RemoteEntryNotFoundError):
        return f"the hub has no file {file!r} in it (HTTP {status or 404})"
    if status is not None:
        return f"the hub at {endpoint} answered HTTP {status}"
    network = _transport_error(error)
    if network is not None:
        what = f" while fetching {file}" if file else ""
        return f"the connection to {endpoint} failed{what} ({type(network).__name__})"
    if isinstance(error, OSError) and "Consistency check failed" in str(error):
        return f"{file} arrived incomplete; run it again to resume"
    lines = str(error).strip().splitlines()
    return (lines[0] if lines else type(error).__name__)[:300].rstrip(".")


def _status(error: BaseException) -> int | None:
    response: Any = getattr(error, "response", None)
    status = getattr(response, "status_code", None)
    return status if isinstance(status, int) else None


def _transport_error(error: BaseException) -> BaseException | None:
    """The network failure in ``error``'s chain, if any: httpx's (and httpx2's) share the
    base class ``TransportError``; the hub client wraps them in its own errors."""
    current: BaseException | None = error
    while current is not None:
        if any(cls.__name__ == "TransportError" for cls in type(current).__mro__):
            return current
        current = current.__cause__ or current.__context__
    return None


def _caused_by(error: BaseException, kind: type[BaseException]) -> bool:
    current = error.__cause__ or error.__context__
    while current is not None:
        if isinstance(current, kind):
            return True
        current = current.__cause__ or current.__context__
    return False
