"""Loading a transformers model from a hub id or a local folder, quietly and with a clear
error: shared by the CLIP and NLI backends (and the tiny test models)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

from core.errors import ModelLoadError

T = TypeVar("T")


def load_pretrained(
    kind: str, model_id_or_path: str, env_var: str, flag: str, load: Callable[[], T]
) -> T:
    """Run ``load`` without progress bars; any failure becomes one ModelLoadError that names
    the model and the setting that points at it."""
    try:
        with quiet_loading():
            return load()
    except ModelLoadError:
        raise  # already says what is wrong (e.g. a classifier without an entailment label)
    except Exception as error:
        message = load_failure_message(kind, model_id_or_path, error, env_var, flag)
        raise ModelLoadError(message) from error


@contextlib.contextmanager
def quiet_loading() -> Iterator[None]:
    """No "Loading weights" progress bars while loading: they would clutter the bot's logs
    and the CLI's one-line errors. The previous setting is restored afterwards."""
    from transformers.utils import logging as hf_logging

    was_enabled = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        yield
    finally:
        if was_enabled:
            hf_logging.enable_progress_bar()


def load_failure_message(
    kind: str, model_id_or_path: str, error: BaseException, env_var: str, flag: str
) -> str:
    """One line that names what failed, why, and which setting points at the model.

    A missing local folder is reported as such; transformers would otherwise complain that
    the path is not a valid hub repo id, which misleads.
    """
    path = Path(model_id_or_path).expanduser()
    if looks_local(model_id_or_path) and not path.exists():
        reason = f"there is no folder at {path}"
    else:
        lines = str(error).strip().splitlines()
        reason = (lines[0] if lines else type(error).__name__)[:300].rstrip(".")
    return model_error_message("load", kind, model_id_or_path, reason, env_var, flag)


def model_error_message(
    verb: str, kind: str, model_id_or_path: str, reason: str, env_var: str, flag: str
) -> str:
    """The one line every model failure ends as: what, why, and the setting to change."""
    return (
        f"Could not {verb} the {kind} model {model_id_or_path!r}: {reason}. "
        f"Set {env_var} (or pass {flag}) to a model id or a local model folder."
    )


def looks_local(model_id_or_path: str) -> bool:
    """Hub ids are ``name`` or ``namespace/name``; anything else is meant as a path."""
    return (
        model_id_or_path.startswith((".", "/", "~"))
        or "\\" in model_id_or_path
        or model_id_or_path.count("/") > 1
    )
