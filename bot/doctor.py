"""`aidj doctor`'s checks: is this machine ready for what the settings ask, and if not, what
to do about it.

Each check returns ``Finding``s: one line each, with the fix when there is one. "fail" means
something the configured mode needs is missing or wrong (the command then exits 1); "warn"
means it runs, but worse or slower than it could (no anchors yet, a model still to download);
"skip" means the part is not configured. Checks only read: nothing is created, migrated or
downloaded, and no secret is ever printed.
"""

from __future__ import annotations

import contextlib
import re
import socket
import sqlite3
import sys
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlite_utils import Database

from adapters.models.hub import DEFAULT_HUB, HubOptions, ModelRef, cached_model, is_complete
from adapters.models.serve_options import ModelServer
from bot.config import Settings
from bot.models import model_refs
from core.errors import AIDJError

OK, WARN, FAIL, SKIP = "ok", "warn", "FAIL", "skip"
CONNECT_TIMEOUT_S = 3.0
# the environment variables naming a model server (checked: the address accepts connections)
MODEL_SERVER_VARIABLES = ("RAY_ADDRESS", "AIDJ_MODEL_SERVER")

_TELEGRAM_TOKEN = re.compile(r"^\d{5,}:[A-Za-z0-9_-]{30,}$")
_DISCORD_TOKEN = re.compile(r"^[A-Za-z0-9_-]{20,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{20,}$")


@dataclass(frozen=True)
class Finding:
    status: str  # OK, WARN, FAIL or SKIP
    part: str
    detail: str
    fix: str = ""

    def line(self) -> str:
        text = f"{self.status:<4}  {self.part:<13} {self.detail}"
        return f"{text}  -> {self.fix}" if self.fix else text


@dataclass(frozen=True)
class Context:
    settings: Settings
    bots: bool  # checking for `aidj run` (tokens needed), else for the one-shot commands
    environ: Mapping[str, str]
    hub: HubOptions = DEFAULT_HUB


Check = Callable[[Context], list[Finding]]


def run_checks(context: Context) -> list[Finding]:
    """Every check, in order; a check that breaks becomes a failed finding of its own."""
    findings: list[Finding] = []
    for check in CHECKS:
        try:
            findings.extend(check(context))
        except Exception as error:  # a bug in a check must not hide the others
            part = check.__name__.removeprefix("check_")
            findings.append(Finding(FAIL, part, f"the check broke: {type(error).__name__}"))
    return findings


# ---------------------------------------------------------------- python and torch


def check_python(context: Context) -> list[Finding]:
    return [*_torch_findings(context), *_clip_runtime_findings(context.settings)]


def _torch_findings(context: Context) -> list[Finding]:
    version = ".".join(map(str, sys.version_info[:3]))
    try:
        import torch
    except ImportError as error:
        return [
            Finding(
                FAIL, "python", f"Python {version}, torch missing ({error})", "run scripts/setup"
            )
        ]
    cuda = torch.version.cuda
    build = f"CUDA {cuda} build" if cuda else "CPU build"
    detail = f"Python {version}, torch {torch.__version__} ({build})"
    device = context.settings.device
    gpu = _usable_gpu(torch, device)
    if device.startswith("cuda"):
        if gpu is None:
            fix = "set AIDJ_DEVICE=cpu, or install a CUDA build of torch on a machine with a GPU"
            return [
                Finding(FAIL, "python", f"{detail}; AIDJ_DEVICE={device} but no GPU is usable", fix)
            ]
        return [Finding(OK, "python", f"{detail}, device {device}: {gpu}")]
    if gpu is not None:  # runs, but many times slower than it could (README, "One GPU replica")
        fix = "set AIDJ_DEVICE=cuda to run the models on it"
        return [
            Finding(WARN, "python", f"{detail}, device {device}, but a GPU is here: {gpu}", fix)
        ]
    return [Finding(OK, "python", f"{detail}, device {device}")]


def _clip_runtime_findings(settings: Settings) -> list[Finding]:
    """With ``AIDJ_CLIP_RUNTIME=onnxruntime``: are ONNX Runtime and the exporter's onnx here."""
    if settings.clip_runtime != "onnxruntime":
        return []
    try:
        import onnx
        import onnxruntime
    except ImportError as error:
        from adapters.models.clip_onnx import INSTALL_HINT

        detail = f"AIDJ_CLIP_RUNTIME=onnxruntime, but {error.name or 'a package'} is missing"
        return [Finding(FAIL, "onnxruntime", detail, INSTALL_HINT)]
    detail = (
        f"ONNX Runtime {onnxruntime.__version__} (onnx {onnx.__version__}) runs CLIP's image tower"
    )
    return [Finding(OK, "onnxruntime", detail)]


def _usable_gpu(torch: Any, device: str) -> str | None:
    """The GPU that ``device`` names (the first one for "cpu" or "cuda"): its name and memory,
    or None when torch can use none."""
    if not torch.cuda.is_available():
        return None
    index = torch.device(device).index if device.startswith("cuda") else None
    try:
        properties = torch.cuda.get_device_properties(index or 0)
    except (AssertionError, RuntimeError):  # an index past the GPUs there are
        return None
    return f"{properties.name}, {properties.total_memory / 2**30:.0f} GiB"


# ---------------------------------------------------------------- models


def check_models(context: Context) -> list[Finding]:
    return [_model_finding(ref, context.hub) for ref in model_refs(context.settings)]


def _model_finding(ref: ModelRef, hub: HubOptions) -> Finding:
    from huggingface_hub import constants

    from adapters.models.download_progress import human_size
    from adapters.models.hub import model_files, total_size

    part = f"{ref.kind} model"
    if ref.is_local:
        folder = Path(ref.model).expanduser()
        if folder.is_dir() and is_complete(folder):
            return Finding(OK, part, f"local folder {folder}")
        fix = f"point {ref.env_var} at a model folder, or at a hub id"
        return Finding(FAIL, part, f"{folder} holds no complete model", fix)
    cached = cached_model(ref.model, hub)
    if cached is not None:
        return Finding(OK, part, f"{ref.model}, downloaded ({cached})")
    if constants.HF_HUB_OFFLINE:
        fix = "run `aidj models download` where the hub is reachable, or unset HF_HUB_OFFLINE"
        return Finding(FAIL, part, f"{ref.model} is not downloaded and HF_HUB_OFFLINE is set", fix)
    try:
        files = model_files(ref, hub)
    except AIDJError as error:  # its message names the setting to change
        return Finding(FAIL, part, f"not downloaded, and: {error}")
    size = human_size(total_size(files))
    return Finding(
        WARN,
        part,
        f"{ref.model} not downloaded yet ({size}); the first run fetches it",
        "`aidj models download` fetches it now",
    )


# ---------------------------------------------------------------- database, catalog, anchors


def check_database(context: Context) -> list[Finding]:
    path = Path(context.settings.db_path).expanduser()
    if not path.is_file():
        fix = "`aidj catalog import` creates it (or set AIDJ_DB to yours)"
        return [Finding(FAIL, "database", f"no database at {path}", fix)]
    try:
        with _read_only(path) as db:
            return [*_migrations(db, path), *_catalog(db), *_anchors(db)]
    except sqlite3.OperationalError as error:
        if "locked" in str(error) or "busy" in str(error):
            fix = "wait for the other program (an import?) and run `aidj doctor` again"
            return [Finding(FAIL, "database", f"{path} is locked by another program", fix)]
        return [Finding(FAIL, "database", f"cannot read {path}: {error}", "check the file")]
    except sqlite3.DatabaseError as error:
        return [
            Finding(
                FAIL,
                "database",
                f"{path} is not a usable database: {error}",
                "restore it, or point AIDJ_DB elsewhere",
            )
        ]


@contextlib.contextmanager
def _read_only(path: Path) -> Iterator[Database]:
    """The database, opened so that nothing can be written to it."""
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        connection.execute("PRAGMA busy_timeout = 2000")
        yield Database(connection)
    finally:
        connection.close()


def _migrations(db: Database, path: Path) -> list[Finding]:
    from migrations import pending_migrations

    pending = pending_migrations(db)
    if not pending:
        return [Finding(OK, "database", f"{path}, schema up to date")]
    return [
        Finding(
            WARN,
            "database",
            f"{path}, {len(pending)} migration(s) pending",
            "`aidj db migrate` (the bot also applies them when it starts)",
        )
    ]


def _catalog(db: Database) -> list[Finding]:
    if not db["tracks"].exists():
        return [Finding(FAIL, "catalog", "no catalog tables yet", "`aidj catalog import`")]
    tracks = db.execute("SELECT count(*) FROM tracks").fetchone()[0]
    if tracks == 0:
        return [Finding(FAIL, "catalog", "no tracks imported", "`aidj catalog import`")]
    genres = db.execute("SELECT count(*) FROM genres WHERE track_count > 0").fetchone()[0]
    return [Finding(OK, "catalog", f"{tracks} tracks in {genres} genres")]


def _anchors(db: Database) -> list[Finding]:
    from adapters.storage.anchors_store import anchors_are_current, stored_anchors
    from core.categories import CATEGORIES

    if not db["anchors"].exists() or not db["tracks"].exists():
        return []
    anchors = stored_anchors(db)
    if not anchors:
        return [
            Finding(
                WARN,
                "anchors",
                "none built: every scene uses its default base values",
                "`aidj anchors build`",
            )
        ]
    built = max(anchor.built_at for anchor in anchors)
    detail = f"{len(anchors)} of {len(CATEGORIES)} scenes, built {built}"
    if not anchors_are_current(db):
        return [
            Finding(
                WARN,
                "anchors",
                f"{detail}, not from the current catalog",
                "`aidj anchors build` after an import",
            )
        ]
    return [Finding(OK, "anchors", f"{detail} from the current catalog")]


# ---------------------------------------------------------------- tokens


def check_tokens(context: Context) -> list[Finding]:
    settings = context.settings
    tokens = (
        ("TELEGRAM_TOKEN", settings.telegram_token, _TELEGRAM_TOKEN, "@BotFather (/token)"),
        ("DISCORD_TOKEN", settings.discord_token, _DISCORD_TOKEN, "the Developer Portal, Bot tab"),
    )
    if not context.bots:
        return [Finding(SKIP, "tokens", "not needed for the one-shot commands")]
    findings = []
    for name, value, shape, source in tokens:
        if not value:
            continue
        if shape.match(value):
            findings.append(Finding(OK, "tokens", f"{name} set, well-formed"))
        else:
            why = (
                "has quotes or spaces" if re.search(r"[\"'\s]", value) else "is not shaped like one"
            )
            findings.append(
                Finding(FAIL, "tokens", f"{name} {why}", f"copy it again from {source}")
            )
    if not findings:
        fix = "set TELEGRAM_TOKEN and/or DISCORD_TOKEN (README: Running the bots)"
        findings.append(
            Finding(FAIL, "tokens", "no chat token: `aidj run` has no bot to start", fix)
        )
    return findings


# ---------------------------------------------------------------- Spotify


def check_spotify(context: Context) -> list[Finding]:
    from adapters.spotify.auth import SCOPES, TokenFile, token_path

    settings = context.settings
    has_id, has_secret = bool(settings.spotify_client_id), bool(settings.spotify_client_secret)
    if not (has_id or has_secret):
        if settings.recommender == "spotify":
            return [
                Finding(
                    FAIL,
                    "spotify",
                    "AIDJ_RECOMMENDER=spotify without credentials",
                    "set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET",
                )
            ]
        return [Finding(SKIP, "spotify", "not configured (optional: album art and playlists)")]
    if not (has_id and has_secret):
        missing = "SPOTIFY_CLIENT_SECRET" if has_id else "SPOTIFY_CLIENT_ID"
        return [Finding(FAIL, "spotify", f"{missing} is not set", f"set {missing} too")]
    token_file = TokenFile(token_path(settings.config_dir))
    if not token_file.has_login():
        return [
            Finding(
                WARN,
                "spotify",
                "app credentials set, no login stored: album art only",
                "`aidj spotify login` for playlists",
            )
        ]
    missing_scopes = token_file.missing(SCOPES)
    if missing_scopes:
        return [
            Finding(
                WARN,
                "spotify",
                f"login stored, without {', '.join(missing_scopes)}",
                "`aidj spotify login` again",
            )
        ]
    return [Finding(OK, "spotify", f"app credentials set, login stored ({token_file.path})")]


# ---------------------------------------------------------------- model server


def check_model_server(context: Context) -> list[Finding]:
    findings = []
    for name in MODEL_SERVER_VARIABLES:
        raw = context.environ.get(name, "").strip()
        if not raw:
            continue
        if name == "AIDJ_MODEL_SERVER":  # ADDRESS[/APP]
            with contextlib.suppress(ValueError):
                raw = ModelServer.parse(raw).address
        address = _host_port(raw)
        if address is None:
            findings.append(
                Finding(SKIP, "model server", f"{name}={raw} is not host:port; not checked")
            )
            continue
        host, port = address
        try:
            with socket.create_connection((host, port), timeout=CONNECT_TIMEOUT_S):
                pass
        except OSError as error:
            reason = error.strerror or type(error).__name__
            detail = f"{name}: {host}:{port} refuses connections ({reason})"
            findings.append(Finding(FAIL, "model server", detail, f"start it, or unset {name}"))
        else:
            findings.append(
                Finding(OK, "model server", f"{name}: {host}:{port} accepts connections")
            )
    if not findings:
        return [
            Finding(
                SKIP,
                "model server",
                "none set (RAY_ADDRESS, AIDJ_MODEL_SERVER): "
                "the models run in a local worker process",
            )
        ]
    return findings


def _host_port(raw: str) -> tuple[str, int] | None:
    """``host:port``, also behind a scheme (``ray://host:10001``); None for anything else
    (``auto``, ``local``)."""
    match = re.match(r"^(?:[a-z][a-z0-9+.-]*://)?\[?([^\[\]/]+?)\]?:(\d{1,5})/?$", raw)
    if match is None or int(match[2]) > 65535:
        return None
    return match[1], int(match[2])


# ---------------------------------------------------------------- health address


def check_health_address(context: Context) -> list[Finding]:
    address = context.settings.health_address
    if not context.bots:
        return []
    if address is None:
        return [Finding(SKIP, "health", "AIDJ_HEALTH_ADDRESS not set: no /healthz or /metrics")]
    host, port = address
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        with socket.socket(infos[0][0], socket.SOCK_STREAM) as probe:
            probe.bind(infos[0][4])
    except OSError as error:
        reason = error.strerror or type(error).__name__
        return [
            Finding(
                FAIL,
                "health",
                f"cannot listen on {host}:{port} ({reason})",
                "pick a free port in AIDJ_HEALTH_ADDRESS",
            )
        ]
    return [Finding(OK, "health", f"/healthz and /metrics will be on {host}:{port}")]


CHECKS: tuple[Check, ...] = (
    check_python,
    check_models,
    check_database,
    check_tokens,
    check_spotify,
    check_model_server,
    check_health_address,
)
