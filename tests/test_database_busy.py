"""A database another program keeps locked: a clear DatabaseBusyError, in chat and the CLI."""

from __future__ import annotations

import getpass
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from adapters.storage.database import busy_as_user_error, is_busy, open_database
from adapters.storage.request_log import RequestLog
from bot.cli import main
from core.errors import DatabaseBusyError
from core.reply import error_text
from tests.catalog_factory import build_synthetic_catalog
from tests.test_request_log import analysis


@pytest.fixture
def short_timeout(monkeypatch) -> None:
    """Connections opened from now on give up on a lock after 50 ms instead of 5 s."""
    monkeypatch.setattr("adapters.storage.database.BUSY_TIMEOUT_MS", 50)


@contextmanager
def hold_write_lock(path: Path) -> Iterator[sqlite3.Connection]:
    """Another program's connection, holding the write lock of ``path`` meanwhile."""
    holder = sqlite3.connect(path)
    holder.execute("BEGIN IMMEDIATE")
    try:
        yield holder
    finally:
        holder.rollback()
        holder.close()


@pytest.fixture
def db_path(tmp_path) -> Path:
    path = tmp_path / "aidj.db"
    open_database(path).close()
    return path


@pytest.fixture
def locked(db_path) -> Iterator[sqlite3.Connection]:
    with hold_write_lock(db_path) as holder:
        yield holder


def test_a_lock_held_past_the_timeout_is_a_database_busy_error(
    short_timeout, db_path, locked
) -> None:
    db = open_database(db_path)
    log = RequestLog(db)
    with (
        pytest.raises(DatabaseBusyError, match="the database is busy") as caught,
        busy_as_user_error(),
    ):
        log.record_request(
            analysis(), platform="cli", chat_id=1, user_id=2, language="en", caption=""
        )
    assert is_busy(caught.value.__cause__)
    db.close()


def test_other_database_errors_pass_unchanged() -> None:
    db = open_database(":memory:")
    with pytest.raises(sqlite3.OperationalError, match="no such table"), busy_as_user_error():
        db.execute("SELECT * FROM nowhere")
    assert not is_busy(sqlite3.IntegrityError("database is locked"))
    assert is_busy(sqlite3.OperationalError("database is locked"))


def test_chat_reply_for_a_busy_database_in_both_languages() -> None:
    error = DatabaseBusyError("the database is busy: internal details")
    assert error_text(error, "en") == (
        "My music database is busy updating; please try again in a moment."
    )
    assert error_text(error, "ko") == (
        "음악 데이터베이스를 업데이트하는 중이에요. 잠시 후 다시 시도해 주세요."
    )


def test_opening_a_database_while_another_program_migrates_it(
    short_timeout, tmp_path, capsys
) -> None:
    path = tmp_path / "new.db"
    with hold_write_lock(path):  # a fresh file: opening it must write the schema
        assert main(["db", "migrate", "--db", str(path)]) == 1
    err = capsys.readouterr().err
    assert err.splitlines() == [err.strip()]
    assert err.startswith("aidj: the database is busy")


def test_cli_regenerate_while_the_database_is_locked_is_one_clear_line(
    short_timeout, tmp_path, capsys
) -> None:
    path = tmp_path / "aidj.db"
    db = build_synthetic_catalog(path)
    request_id = RequestLog(db).record_request(
        analysis(), platform="cli", chat_id="cli", user_id=getpass.getuser(), language="en",
        caption="",
    )  # fmt: skip
    db.close()
    with hold_write_lock(path):
        code = main(["regenerate", str(request_id), "--db", str(path)])
    captured = capsys.readouterr()
    assert code == 1
    assert captured.out == ""
    assert captured.err.splitlines() == [captured.err.strip()]
    assert captured.err.startswith("aidj: the database is busy")
    # once the lock is gone the same command works
    assert main(["regenerate", str(request_id), "--db", str(path)]) == 0
    assert "https://open.spotify.com/track/" in capsys.readouterr().out
