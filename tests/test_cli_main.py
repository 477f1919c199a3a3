"""`aidj` as a process: `.env` from the working directory, quiet when its reader leaves."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from bot.config import load_settings
from migrations import MIGRATIONS

REPO = Path(__file__).resolve().parent.parent


def aidj(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Run this checkout's `aidj` in a fresh interpreter, without any AIDJ_ variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIDJ_")}
    env["PYTHONPATH"] = str(REPO)
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env=env,
        text=True,
        timeout=120,
        **kwargs,  # type: ignore[arg-type]
    )


def test_settings_read_the_dotenv_of_the_working_directory(tmp_path, monkeypatch) -> None:
    (tmp_path / ".env").write_text("AIDJ_DB=from-dotenv.db\nAIDJ_RECOMMEND_COUNT=7\n")
    monkeypatch.chdir(tmp_path)
    # a copy, so what load_dotenv sets is gone after the test
    monkeypatch.setattr(
        os, "environ", {k: v for k, v in os.environ.items() if not k.startswith("AIDJ_")}
    )
    settings = load_settings()
    assert (settings.db_path, settings.recommend_count) == (Path("from-dotenv.db"), 7)


def test_every_command_reads_the_dotenv_of_the_working_directory(tmp_path) -> None:
    (tmp_path / ".env").write_text("AIDJ_DB=data/from-dotenv.db\n")
    done = aidj("db", "migrate", cwd=tmp_path, capture_output=True)
    assert done.returncode == 0, done.stderr
    count = len(MIGRATIONS._migrations)
    assert done.stdout.startswith(f"Applied {count} migration(s) to data/from-dotenv.db")
    assert (tmp_path / "data" / "from-dotenv.db").is_file()


def test_output_into_a_closed_pipe_ends_quietly(tmp_path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader (`head`) is gone before aidj writes anything
    try:
        done = aidj(
            "db", "migrate", "--db", str(tmp_path / "aidj.db"),
            cwd=tmp_path, stdout=write_end, stderr=subprocess.PIPE,
        )  # fmt: skip
    finally:
        os.close(write_end)
    assert done.stderr == ""  # no BrokenPipeError traceback, no "Exception ignored"
    assert done.returncode == 1
    assert (tmp_path / "aidj.db").is_file()  # the command itself ran
