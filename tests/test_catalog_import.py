"""Catalog import: both formats, genres across rows, idempotence, skipped rows, atomicity."""

from __future__ import annotations

import argparse
import json
import socket
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlite_utils import Database

from adapters.storage import catalog_import
from adapters.storage.catalog_import import import_catalog
from adapters.storage.database import BUSY_TIMEOUT_MS, open_database
from adapters.storage.request_log import RequestLog
from adapters.storage.track_search import nearest
from bot import cli_catalog
from core.errors import CatalogError
from core.mood import MoodPoint
from migrations import MIGRATIONS, applied_migrations, apply_migrations
from tests.catalog_factory import (
    TIDYTUESDAY_HEADER,
    TRACKS_DATASET_HEADER,
    all_seed_genres,
    make_track,
    synthetic_tracks,
    tidytuesday_row,
    track_id,
    tracks_dataset_row,
    write_csv,
    write_tidytuesday_csv,
    write_tracks_dataset_csv,
)
from tests.test_request_log import analysis

TABLES = ("tracks", "track_genres", "genres", "track_plane", "anchors")


def snapshot(db: Database) -> dict[str, list[tuple]]:
    """Every row of the catalog tables, to compare a database before and after."""
    return {
        table: sorted(db.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in TABLES
    }


@pytest.fixture
def db() -> Iterator[Database]:
    db = open_database(":memory:")
    yield db
    db.close()


@pytest.fixture
def three_tracks() -> list:
    return [
        make_track("a", 0.2, 0.3, genres=("acoustic", "sad"), popularity=70),
        make_track("b", 0.8, 0.9, genres=("edm",), artists=("DJ One", "MC Two")),
        make_track("c", 0.5, 0.5, genres=("r-n-b",), popularity=0),
    ]


# ---------------------------------------------------------------- formats


def test_tracks_dataset_format(db, tmp_path, three_tracks) -> None:
    path = write_tracks_dataset_csv(tmp_path / "tracks.csv", three_tracks)
    summary = import_catalog(db, path)
    assert summary.format == "tracks-dataset"
    assert (summary.rows_read, summary.tracks_in_file, summary.counts.inserted) == (4, 3, 3)
    assert summary.skipped == {}
    name, artists, genres, valence, popularity = db.execute(
        "SELECT name, artists, genres, valence, popularity FROM tracks WHERE id = ?",
        [track_id("b")],
    ).fetchone()
    assert (name, json.loads(artists), json.loads(genres)) == (
        "Song b",
        ["DJ One", "MC Two"],
        ["edm"],
    )
    assert (valence, popularity) == (0.8, 50)
    a_genres = db.execute("SELECT genres FROM tracks WHERE id = ?", [track_id("a")]).fetchone()
    assert json.loads(a_genres[0]) == ["acoustic", "sad"]


def test_tidytuesday_track_gets_genre_and_subgenre_of_every_row(db, tmp_path) -> None:
    track = make_track("x", 0.4, 0.6)
    rows = [
        tidytuesday_row(track, "r&b", "neo soul"),
        tidytuesday_row(track, "rap", "hip hop"),
        tidytuesday_row(track, "r&b", "new jack swing"),
    ]
    summary = import_catalog(db, write_csv(tmp_path / "tt.csv", TIDYTUESDAY_HEADER, rows))
    assert summary.format == "tidytuesday"
    assert (summary.rows_read, summary.tracks_in_file) == (3, 1)
    stored = db.execute("SELECT genre FROM track_genres ORDER BY genre").fetchall()
    assert [g for (g,) in stored] == ["hip-hop", "neo-soul", "new-jack-swing", "r-n-b", "rap"]
    assert summary.genres_in_file == 5


def test_both_formats_share_genre_slugs(db, tmp_path) -> None:
    first = make_track("one", 0.3, 0.3)
    second = make_track("two", 0.6, 0.6)
    import_catalog(
        db,
        write_csv(tmp_path / "tt.csv", TIDYTUESDAY_HEADER, [tidytuesday_row(first, "r&b")]),
    )
    import_catalog(
        db,
        write_csv(
            tmp_path / "td.csv", TRACKS_DATASET_HEADER, [tracks_dataset_row(second, "r-n-b")]
        ),
    )
    assert db.execute("SELECT slug, track_count FROM genres").fetchall() == [("r-n-b", 2)]
    found = nearest(db, MoodPoint(0.5, 0.5), ["r&b"], n=5)
    assert {t.id for t in found} == {first.id, second.id}


def test_progress_bar_does_not_change_the_result(db, tmp_path, three_tracks, capsys) -> None:
    path = write_tracks_dataset_csv(tmp_path / "t.csv", three_tracks)
    summary = import_catalog(db, path, progress=True)
    assert (summary.rows_read, summary.tracks_in_file) == (4, 3)
    assert "rows" in capsys.readouterr().err  # tqdm drew its bar on stderr


def test_header_with_bom_and_extra_columns(db, tmp_path, three_tracks) -> None:
    path = write_tracks_dataset_csv(tmp_path / "t.csv", three_tracks)
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert import_catalog(db, path).tracks_in_file == 3


# ---------------------------------------------------------------- idempotence, upserts


def test_reimport_is_idempotent(db, tmp_path, three_tracks) -> None:
    path = write_tracks_dataset_csv(tmp_path / "t.csv", three_tracks)
    import_catalog(db, path)
    before = snapshot(db)
    again = import_catalog(db, path)
    assert (again.counts.inserted, again.counts.updated, again.counts.unchanged) == (0, 0, 3)
    assert snapshot(db) == before


def test_reimport_adds_genres_and_moves_changed_tracks(db, tmp_path, three_tracks) -> None:
    import_catalog(db, write_tracks_dataset_csv(tmp_path / "1.csv", three_tracks))
    moved = make_track("c", 0.95, 0.05, genres=("chill",), popularity=5)
    summary = import_catalog(db, write_tracks_dataset_csv(tmp_path / "2.csv", [moved]))
    assert (summary.counts.inserted, summary.counts.updated) == (0, 1)
    genres, valence = db.execute(
        "SELECT genres, valence FROM tracks WHERE id = ?", [moved.id]
    ).fetchone()
    assert json.loads(genres) == ["chill", "r-n-b"]  # kept the old genre, added the new
    assert valence == 0.95
    # the index moved with it, under both genres, and holds no stale point
    for genre in ("r-n-b", "chill"):
        assert [t.id for t in nearest(db, MoodPoint(0.95, 0.05), [genre], n=1)] == [moved.id]
    points = db.execute("SELECT count(*) FROM track_plane").fetchone()[0]
    pairs = db.execute("SELECT count(*) FROM track_genres").fetchone()[0]
    assert points == pairs == 5


# ---------------------------------------------------------------- skipped rows


def test_bad_rows_are_skipped_and_counted_by_reason(db, tmp_path) -> None:
    good = make_track("good", 0.5, 0.5)
    t = [make_track(i, 0.5, 0.5) for i in range(10)]
    rows = [
        tracks_dataset_row(good, "pop"),
        tracks_dataset_row(t[0], "pop", track_id="not-a-spotify-id"),
        tracks_dataset_row(t[1], "pop", track_id=""),
        tracks_dataset_row(t[2], "pop", valence="1.5"),
        tracks_dataset_row(t[3], "pop", energy="-0.1"),
        tracks_dataset_row(t[4], "pop", popularity="101"),
        tracks_dataset_row(t[5], "pop", danceability="loud"),
        tracks_dataset_row(t[6], "pop", track_name=""),
        tracks_dataset_row(t[7], "pop", artists=""),
        tracks_dataset_row(t[8], ""),
        tracks_dataset_row(t[9], "pop", valence="NaN"),
    ]
    summary = import_catalog(db, write_csv(tmp_path / "bad.csv", TRACKS_DATASET_HEADER, rows))
    assert summary.tracks_in_file == 1
    assert summary.skipped == {
        "bad id": 1,
        "missing track_id": 1,
        "valence out of range": 1,
        "energy out of range": 1,
        "popularity out of range": 1,
        "danceability not a number": 1,
        "missing track_name": 1,
        "missing artists": 1,
        "missing track_genre": 1,
        "missing valence": 1,
    }
    assert db.execute("SELECT id FROM tracks").fetchall() == [(good.id,)]
    assert "valence out of range: 1" in "\n".join(summary.lines())


def test_short_row_counts_as_missing_values(db, tmp_path) -> None:
    good = make_track("good", 0.5, 0.5)
    path = write_tracks_dataset_csv(tmp_path / "t.csv", [good])
    with path.open("a", encoding="utf-8") as file:
        file.write(f"7,{track_id('short')},Someone,Album,Name,40\n")
    summary = import_catalog(db, path)
    assert summary.tracks_in_file == 1
    assert summary.skipped == {"missing track_genre": 1}  # the first missing cell checked


def test_duplicate_ids_with_other_values_are_counted(db, tmp_path) -> None:
    track = make_track("dup", 0.4, 0.6)
    rows = [
        tracks_dataset_row(track, "pop"),
        tracks_dataset_row(track, "rock"),  # same values, another genre: not a conflict
        tracks_dataset_row(track, "jazz", valence="0.9"),
        tracks_dataset_row(track, "pop", track_name="Another name"),
    ]
    summary = import_catalog(db, write_csv(tmp_path / "dup.csv", TRACKS_DATASET_HEADER, rows))
    assert (summary.tracks_in_file, summary.conflicting_rows) == (1, 2)
    assert "conflicting rows: 2 (same track id, other values; the first row kept)" in "\n".join(
        summary.lines()
    )
    name, valence, genres = db.execute("SELECT name, valence, genres FROM tracks").fetchone()
    assert (name, valence, json.loads(genres)) == ("Song dup", 0.4, ["jazz", "pop", "rock"])


# ---------------------------------------------------------------- failures change nothing


@pytest.fixture
def imported(tmp_path, three_tracks) -> Database:
    db = open_database(tmp_path / "aidj.db")
    import_catalog(db, write_tracks_dataset_csv(tmp_path / "first.csv", three_tracks))
    return db


def _bad_files(tmp_path: Path) -> dict[str, Path]:
    wrong = tmp_path / "wrong.csv"
    wrong.write_text("id,title,artist\n1,a,b\n", encoding="utf-8")
    partial = tmp_path / "partial.csv"
    partial.write_text("track_id,artists,track_genre,track_name\n", encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_text("", encoding="utf-8")
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"\xff\xfe\x00\x81garbage\x00\n" * 10)
    only_bad = write_csv(
        tmp_path / "only_bad.csv",
        TRACKS_DATASET_HEADER,
        [tracks_dataset_row(make_track("z", 2.0, 0.5), "pop")],
    )
    return {
        "no such file": tmp_path / "missing.csv",
        "is a folder": tmp_path,
        "not a known catalog CSV": wrong,
        "lacks the columns": partial,
        "is empty": empty,
        "not a UTF-8": binary,
        "no usable rows": only_bad,
    }


@pytest.mark.parametrize(
    "problem",
    [
        "no such file",
        "is a folder",
        "not a known catalog CSV",
        "lacks the columns",
        "is empty",
        "not a UTF-8",
        "no usable rows",
    ],
)
def test_failed_import_leaves_the_database_unchanged(imported, tmp_path, problem) -> None:
    before = snapshot(imported)
    with pytest.raises(CatalogError, match=problem):
        import_catalog(imported, _bad_files(tmp_path)[problem])
    assert snapshot(imported) == before


def test_error_half_way_through_the_swap_rolls_everything_back(
    imported, tmp_path, monkeypatch
) -> None:
    before = snapshot(imported)
    path = write_tracks_dataset_csv(
        tmp_path / "new.csv", [make_track(i, 0.1 * i, 0.5, genres=("jazz",)) for i in range(5)]
    )
    real_copy = catalog_import.copy_rtree_content
    tracks_when_it_broke: list[int] = []

    def broken(db: Database, source: str, target: str) -> None:
        if target != "main.track_plane":
            return real_copy(db, source, target)
        tracks_when_it_broke.append(db.execute("SELECT count(*) FROM main.tracks").fetchone()[0])
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(catalog_import, "copy_rtree_content", broken)
    with pytest.raises(CatalogError, match="failed and was undone"):
        import_catalog(imported, path)
    assert tracks_when_it_broke == [8]  # the new tracks were in when the index swap failed
    assert snapshot(imported) == before
    assert not imported.conn.in_transaction


def assert_index_matches(db: Database) -> None:
    """The R*Tree is sound and holds exactly one right point per (track, genre) pair."""
    assert db.execute("SELECT rtreecheck('main', 'track_plane')").fetchone() == ("ok",)
    pairs = db.execute("SELECT count(*) FROM track_genres").fetchone()[0]
    matching = db.execute(
        "SELECT count(*) FROM track_plane AS p "
        "JOIN track_genres AS tg ON tg.id = p.id AND tg.track_id = p.track_id "
        "JOIN genres AS g ON g.slug = tg.genre AND g.code = p.genre_min "
        "JOIN tracks AS t ON t.id = tg.track_id AND t.valence = p.valence"
    ).fetchone()[0]
    assert db.execute("SELECT count(*) FROM track_plane").fetchone()[0] == matching == pairs


def test_an_import_that_finishes_meanwhile_is_kept(imported, tmp_path, monkeypatch) -> None:
    """Two imports at once: the one that staged from an older catalog stages again."""
    ours = make_track("ours", 0.3, 0.3, genres=("jazz",))
    theirs = make_track("theirs", 0.7, 0.7, genres=("jazz", "blues"))
    other = open_database(tmp_path / "aidj.db")
    real_swap = catalog_import._swap_in
    swaps: list[Database] = []

    def other_import_first(db: Database, version: int) -> float | None:
        swaps.append(db)
        if len(swaps) == 1:
            catalog_import.store_tracks(other, [theirs])
        return real_swap(db, version)

    monkeypatch.setattr(catalog_import, "_swap_in", other_import_first)
    summary = import_catalog(imported, write_tracks_dataset_csv(tmp_path / "o.csv", [ours]))
    assert swaps == [imported, other, imported]
    assert (summary.counts.inserted, summary.catalog_tracks) == (1, 5)
    counts = dict(imported.execute("SELECT slug, track_count FROM genres").fetchall())
    assert (counts["jazz"], counts["blues"]) == (2, 1)
    assert_index_matches(imported)
    other.close()


# ---------------------------------------------------------------- while the bot writes

# The reported failure: a 200k-row import held the write lock longer than the bot's 5 s busy
# timeout. Scaled down: an import of a fifth of that (about 40k rows) must never make the
# bot's writes wait a fifth of the timeout (a naive BEGIN IMMEDIATE around the old write
# holds the lock longer than that; staging outside the lock holds it a quarter as long).
WRITER_TIMEOUT_MS = BUSY_TIMEOUT_MS // 5


class RequestWriter(threading.Thread):
    """Records requests on its own connection, as the bot does, until told to stop; each
    insert gives up after WRITER_TIMEOUT_MS waiting for the write lock."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.path = path
        self.writing = threading.Event()
        self.stop = threading.Event()
        self.written = 0
        self.errors: list[sqlite3.Error] = []

    def run(self) -> None:
        db = open_database(self.path)
        db.execute(f"PRAGMA busy_timeout = {WRITER_TIMEOUT_MS}")
        log = RequestLog(db)
        try:
            while not self.stop.is_set():
                try:
                    log.record_request(
                        analysis(), platform="cli", chat_id=1, user_id=2, language="en", caption=""
                    )
                    self.written += 1
                except sqlite3.Error as error:
                    self.errors.append(error)
                self.writing.set()
        finally:
            db.close()


def test_import_while_the_bot_writes_requests(imported, tmp_path) -> None:
    tracks = synthetic_tracks(all_seed_genres(), 600, seed=3)  # 40,800 tracks, as many rows
    path = write_tracks_dataset_csv(tmp_path / "big.csv", tracks)
    writer = RequestWriter(tmp_path / "aidj.db")
    writer.start()
    try:
        assert writer.writing.wait(timeout=30)
        before = writer.written
        summary = import_catalog(imported, path)
        during = writer.written - before
    finally:
        writer.stop.set()
        writer.join()
    assert writer.errors == []
    assert during > 0  # the writer kept writing while the import ran
    assert summary.counts.inserted == len(tracks)
    assert summary.catalog_tracks == len(tracks) + 3
    assert imported.execute("SELECT count(*) FROM requests").fetchone() == (writer.written,)
    assert_index_matches(imported)


def test_cli_import_while_the_database_is_locked_is_one_clear_line(
    imported, tmp_path, monkeypatch, capsys
) -> None:
    monkeypatch.setattr("adapters.storage.database.BUSY_TIMEOUT_MS", 50)
    before = snapshot(imported)
    path = write_tracks_dataset_csv(tmp_path / "new.csv", [make_track("new", 0.5, 0.5)])
    holder = sqlite3.connect(tmp_path / "aidj.db")
    holder.execute("BEGIN IMMEDIATE")
    try:
        code = cli_catalog.run_catalog_import(_args(db=tmp_path / "aidj.db", path=path))
    finally:
        holder.rollback()
        holder.close()
    err = capsys.readouterr().err
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("aidj: the database is busy")
    assert snapshot(imported) == before


# ---------------------------------------------------------------- migrations, database


def test_migrations_are_idempotent(tmp_path) -> None:
    path = tmp_path / "nested" / "dir" / "aidj.db"
    db = open_database(path)
    names = applied_migrations(db)
    assert names == [m.name for m in MIGRATIONS._migrations]
    schema = db.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall()
    assert apply_migrations(db) == []
    db.close()
    again = open_database(path)
    assert applied_migrations(again) == names
    assert again.execute("SELECT name, sql FROM sqlite_master ORDER BY name").fetchall() == schema
    assert again.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    for table in (
        "tracks",
        "track_genres",
        "track_plane",
        "anchors",
        "requests",
        "shown_tracks",
        "reply_messages",
        "feedback",
        "spotify_tracks",
        "spotify_playlists",
    ):
        assert again[table].exists(), table


def test_unusable_database_file_is_a_catalog_error(tmp_path) -> None:
    path = tmp_path / "not-a-db.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match="cannot use the database"):
        open_database(path)


# ---------------------------------------------------------------- CLI


def _args(**values: object) -> argparse.Namespace:
    return argparse.Namespace(**{"path": None, "url": None, **values})


def test_cli_import_prints_a_summary(tmp_path, three_tracks, capsys) -> None:
    csv_path = write_tracks_dataset_csv(tmp_path / "t.csv", three_tracks)
    code = cli_catalog.run_catalog_import(_args(db=tmp_path / "aidj.db", path=csv_path))
    out = capsys.readouterr().out
    assert code == 0
    assert "tracks upserted: 3 (3 new" in out
    assert "catalog now:     3 tracks in 4 genres" in out


def test_cli_import_of_a_missing_file_is_one_line(tmp_path, capsys) -> None:
    code = cli_catalog.run_catalog_import(
        _args(db=tmp_path / "aidj.db", path=tmp_path / "nope.csv")
    )
    err = capsys.readouterr().err
    assert code == 1
    assert err.strip().splitlines() == [f"aidj: no such file: {tmp_path / 'nope.csv'}"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_cli_download_failure_says_offline(tmp_path, capsys) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/spotify_songs.csv"
    db_path = tmp_path / "aidj.db"
    code = cli_catalog.run_catalog_import(_args(db=db_path, url=url))
    err = capsys.readouterr().err
    assert code == 1
    assert f"Downloading the catalog from {url}" in err
    assert "(offline?)" in err and "Traceback" not in err
    db = open_database(db_path)
    assert db.execute("SELECT count(*) FROM tracks").fetchone() == (0,)


def test_cli_download_default_url_is_tidytuesday(
    monkeypatch, tmp_path, three_tracks, capsys
) -> None:
    fetched: list[str] = []

    def fake_download(dest: Path, url: str, timeout: float = 60.0) -> Path:
        fetched.append(url)
        return write_tidytuesday_csv(dest, three_tracks)

    monkeypatch.setattr("adapters.storage.catalog_download.download_catalog", fake_download)
    assert cli_catalog.run_catalog_import(_args(db=tmp_path / "aidj.db")) == 0
    assert "Downloading the TidyTuesday catalog from https://" in capsys.readouterr().err
    assert fetched == [
        "https://raw.githubusercontent.com/rfordatascience/tidytuesday/master/"
        "data/2020/2020-01-21/spotify_songs.csv"
    ]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="aidj")
    cli_catalog.register(parser.add_subparsers())
    return parser


def test_cli_parser_wires_the_commands(tmp_path, capsys) -> None:
    parser = _parser()
    db_path = tmp_path / "aidj.db"
    args = parser.parse_args(["db", "migrate", "--db", str(db_path)])
    assert args.handler(args) == 0
    assert f"Applied {len(MIGRATIONS._migrations)} migration(s)" in capsys.readouterr().out
    args = parser.parse_args(["db", "migrate", "--db", str(db_path)])
    assert args.handler(args) == 0
    assert "is up to date" in capsys.readouterr().out
    args = parser.parse_args(["catalog"])
    assert args.handler(args) == 2
    args = parser.parse_args(["catalog", "import", "x.csv", "--db", str(db_path)])
    assert args.handler is cli_catalog.run_catalog_import and args.path == Path("x.csv")
    with pytest.raises(SystemExit) as exit_info:
        parser.parse_args(["anchors", "rebuild"])
    assert exit_info.value.code == 2
