"""`aidj doctor`, case by case: each check on a machine state built for it."""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator

import pytest
from sqlite_utils import Database

from adapters.models.hub import HubOptions
from adapters.spotify.auth import SCOPES, token_path, write_private_json
from adapters.storage.anchors_store import stored_anchors
from adapters.storage.database import open_database
from bot.config import Settings
from bot.doctor import FAIL, OK, SKIP, WARN, Context, Finding, run_checks
from migrations import MIGRATIONS
from tests.conftest import REPO
from tests.fake_hub import FakeHub

TELEGRAM = "123456789:AAH3xY_abcdefghijklmnopqrstuvwxyz012"
DISCORD = "MTAxMjM0NTY3ODkwMTIzNDU2Nzg5.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"


def findings(settings: Settings, *, bots: bool = True, **context: object) -> list[Finding]:
    environ = context.pop("environ", {})
    return run_checks(Context(settings, bots=bots, environ=environ, **context))  # type: ignore[arg-type]


def of(found: list[Finding], part: str) -> list[Finding]:
    return [finding for finding in found if finding.part == part]


def one(found: list[Finding], part: str) -> Finding:
    (finding,) = of(found, part)
    return finding


@pytest.fixture
def ready(own_settings) -> Settings:
    """Tiny local models, a catalog with anchors, a well-formed Telegram token."""
    return dataclasses.replace(own_settings, telegram_token=TELEGRAM)


def test_a_ready_machine_passes_every_check_in_order(ready) -> None:
    found = findings(ready)
    assert [f.part for f in found] == [
        "python", "CLIP model", "NLI model", "database", "catalog", "anchors", "tokens",
        "spotify", "model server", "health",
    ]  # fmt: skip
    assert not [f for f in found if f.status in (FAIL, WARN)], found
    assert "CPU build" in one(found, "python").detail
    assert (
        one(found, "catalog").detail.endswith("genres")
        and " tracks in " in one(found, "catalog").detail
    )
    assert one(found, "anchors").detail.endswith("from the current catalog")
    assert all(TELEGRAM not in finding.line() for finding in found)


def test_the_bots_need_a_token_the_cli_does_not(ready) -> None:
    settings = dataclasses.replace(ready, telegram_token=None)
    missing = one(findings(settings), "tokens")
    assert missing.status == FAIL and "TELEGRAM_TOKEN and/or DISCORD_TOKEN" in missing.fix
    assert one(findings(settings, bots=False), "tokens").status == SKIP


def test_malformed_tokens_are_named_never_shown(ready) -> None:
    quoted = '"' + TELEGRAM + '"'
    settings = dataclasses.replace(ready, telegram_token=quoted, discord_token="not-a-token")
    found = of(findings(settings), "tokens")
    assert [(f.status, f.detail) for f in found] == [
        (FAIL, "TELEGRAM_TOKEN has quotes or spaces"),
        (FAIL, "DISCORD_TOKEN is not shaped like one"),
    ]
    assert "@BotFather" in found[0].fix and "Developer Portal" in found[1].fix
    good = dataclasses.replace(ready, discord_token=DISCORD)
    assert {f.status for f in of(findings(good), "tokens")} == {OK}
    assert all(DISCORD not in f.line() for f in findings(good))


def test_a_missing_database_says_how_to_make_one(ready, tmp_path) -> None:
    settings = dataclasses.replace(ready, db_path=tmp_path / "nowhere" / "aidj.db")
    finding = one(findings(settings), "database")
    assert finding.status == FAIL and "catalog import" in finding.fix
    assert not (tmp_path / "nowhere").exists()  # the doctor creates nothing


def test_an_empty_catalog_fails_and_pending_migrations_warn(ready, tmp_path) -> None:
    path = tmp_path / "old.db"
    old = Database(path)  # as an older AI DJ left it: the first migration only
    MIGRATIONS.apply(old, stop_before="0002_catalog_version")
    old.close()
    found = findings(dataclasses.replace(ready, db_path=path))
    database = one(found, "database")
    later = len(MIGRATIONS._migrations) - 1  # every migration after the first
    assert database.status == WARN and f"{later} migration(s) pending" in database.detail
    assert one(found, "catalog").status == FAIL and "catalog import" in one(found, "catalog").fix
    assert one(found, "anchors").status == WARN


def test_anchors_from_an_older_catalog_are_called_stale(ready) -> None:
    db = open_database(ready.db_path)
    try:
        picked = db.execute("SELECT track_ids FROM anchors LIMIT 1").fetchone()[0]
        db.execute("DELETE FROM tracks WHERE id = ?", [json.loads(picked)[0]])
        db.conn.commit()
        assert stored_anchors(db)
    finally:
        db.close()
    anchors = one(findings(ready), "anchors")
    assert anchors.status == WARN and "not from the current catalog" in anchors.detail
    assert "anchors build" in anchors.fix


def test_models_missing_here_are_downloadable_or_not(ready, tiny_models, tmp_path) -> None:
    settings = dataclasses.replace(ready, clip_model="tiny/clip", nli_model="tiny/nope")
    with FakeHub({"tiny/clip": tiny_models.clip}) as hub:
        options = HubOptions(endpoint=hub.url, cache_dir=tmp_path / "hf")
        found = findings(settings, hub=options)
        clip, nli = one(found, "CLIP model"), one(found, "NLI model")
        assert clip.status == WARN and "not downloaded yet (" in clip.detail
        assert "aidj models download" in clip.fix
        assert nli.status == FAIL and "HTTP 404" in nli.detail and "AIDJ_NLI_MODEL" in nli.detail
        hub.stop()
        unreachable = one(findings(settings, hub=options), "CLIP model")
        assert unreachable.status == FAIL and "connection to" in unreachable.detail
    missing_folder = dataclasses.replace(ready, clip_model=str(tmp_path / "gone"))
    assert one(findings(missing_folder), "CLIP model").status == FAIL


def test_spotify_settings_and_login(ready, tmp_path) -> None:
    assert one(findings(ready), "spotify").status == SKIP
    half = dataclasses.replace(ready, spotify_client_id="id-1234")
    assert one(findings(half), "spotify").detail == "SPOTIFY_CLIENT_SECRET is not set"
    both = dataclasses.replace(half, spotify_client_secret="secret-5678", config_dir=tmp_path)
    no_login = one(findings(both), "spotify")
    assert no_login.status == WARN and "spotify login" in no_login.fix
    write_private_json(token_path(tmp_path), {"refresh_token": "r", "scope": " ".join(SCOPES)})
    assert one(findings(both), "spotify").status == OK
    legacy = dataclasses.replace(ready, recommender="spotify")
    assert one(findings(legacy), "spotify").status == FAIL


@pytest.fixture
def listening() -> Iterator[int]:
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_a_model_server_address_must_accept_connections(ready, listening) -> None:
    assert one(findings(ready), "model server").status == SKIP
    found = findings(ready, environ={"RAY_ADDRESS": f"ray://127.0.0.1:{listening}"})
    assert one(found, "model server").status == OK
    with socket.create_server(("127.0.0.1", 0)) as closed:
        port = closed.getsockname()[1]
    refused = one(
        findings(ready, environ={"AIDJ_MODEL_SERVER": f"127.0.0.1:{port}"}), "model server"
    )
    assert refused.status == FAIL and "unset AIDJ_MODEL_SERVER" in refused.fix
    auto = one(findings(ready, environ={"RAY_ADDRESS": "auto"}), "model server")
    assert auto.status == SKIP and "not checked" in auto.detail
    with_app = findings(ready, environ={"AIDJ_MODEL_SERVER": f"ray://127.0.0.1:{listening}/aidj"})
    assert one(with_app, "model server").status == OK


def test_a_gpu_device_without_a_gpu_fails(ready) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    python = one(findings(dataclasses.replace(ready, device="cuda")), "python")
    assert python.status == FAIL and "AIDJ_DEVICE=cpu" in python.fix


def test_onnxruntime_is_checked_only_when_clip_runs_on_it(ready, monkeypatch) -> None:
    assert not of(findings(ready), "onnxruntime")
    on_onnx = dataclasses.replace(ready, clip_runtime="onnxruntime")
    if importlib.util.find_spec("onnxruntime") is not None:
        assert one(findings(on_onnx), "onnxruntime").status == OK
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # importing it now fails
    missing = one(findings(on_onnx), "onnxruntime")
    assert missing.status == FAIL and "aidj[onnx]" in missing.fix


def test_a_health_port_in_use_fails(ready, listening) -> None:
    busy = dataclasses.replace(ready, health_address=("127.0.0.1", listening))
    health = one(findings(busy), "health")
    assert health.status == FAIL and "AIDJ_HEALTH_ADDRESS" in health.fix


def doctor(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    base = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("AIDJ_", "SPOTIFY_", "TELEGRAM", "DISCORD", "RAY_"))
    }
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", "doctor", *args],
        env={**base, "PYTHONPATH": str(REPO), **env},
        cwd=REPO / "tests",
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_exit_status_says_whether_the_mode_can_work(ready, tmp_path) -> None:
    env = {
        "AIDJ_CLIP_MODEL": ready.clip_model,
        "AIDJ_NLI_MODEL": ready.nli_model,
        "AIDJ_DB": str(ready.db_path),
        "AIDJ_CONFIG_DIR": str(tmp_path),
    }
    cli = doctor("--cli", env=env)
    assert cli.returncode == 0, cli.stdout + cli.stderr
    assert cli.stdout.splitlines()[0].startswith("ok    python")
    assert cli.stdout.rstrip().endswith("Ready for the one-shot commands.")
    bots = doctor(env=env)
    assert bots.returncode == 1
    assert "FAIL  tokens" in bots.stdout and "1 problem(s) to fix" in bots.stderr
    broken = doctor(env={**env, "AIDJ_DELTA_MAX": "7"})
    assert broken.returncode == 1 and broken.stdout.startswith("FAIL  settings")
