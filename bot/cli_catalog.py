"""`aidj catalog import`, `aidj anchors build|show`, `aidj db migrate`.

Each handler takes the parsed ``argparse.Namespace`` (``db``: the database path, None for
``Settings.db_path``) and returns the exit code: 0 done, 1 a data problem (told in one line
on stderr, never a traceback), 2 a usage problem.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli_errors import EXIT_DATA, usage, user_errors

if TYPE_CHECKING:
    from sqlite_utils import Database

EXIT_OK = 0


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the catalog, anchors and db commands to the `aidj` parser."""
    catalog = subparsers.add_parser("catalog", help="the local track catalog")
    catalog.set_defaults(handler=usage(catalog))
    catalog_commands = catalog.add_subparsers(title="catalog commands", metavar="COMMAND")
    load = catalog_commands.add_parser(
        "import",
        help="import a catalog CSV (TidyTuesday or Spotify Tracks Dataset format)",
        description="Import a track catalog CSV into the database. Without PATH, the "
        "TidyTuesday spotify_songs.csv is downloaded first.",
    )
    load.add_argument("path", nargs="?", type=Path, help="the CSV file (default: download)")
    load.add_argument("--url", default=None, help="download from this URL instead")
    _add_db(load)
    load.set_defaults(handler=run_catalog_import)

    anchors = subparsers.add_parser("anchors", help="the per-scene anchor table")
    anchors.set_defaults(handler=usage(anchors))
    anchor_commands = anchors.add_subparsers(title="anchors commands", metavar="COMMAND")
    build = anchor_commands.add_parser("build", help="pick representative tracks per scene")
    _add_db(build)
    build.set_defaults(handler=run_anchors_build)
    show = anchor_commands.add_parser("show", help="print the anchor table")
    _add_db(show)
    show.set_defaults(handler=run_anchors_show)

    database = subparsers.add_parser("db", help="the database file")
    database.set_defaults(handler=usage(database))
    db_commands = database.add_subparsers(title="db commands", metavar="COMMAND")
    migrate = db_commands.add_parser("migrate", help="apply pending schema migrations")
    _add_db(migrate)
    migrate.set_defaults(handler=run_db_migrate)


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", type=Path, default=None, help="database file (default: AIDJ_DB)")


def _db_path(args: argparse.Namespace) -> Path:
    path = getattr(args, "db", None)
    if path is not None:
        return Path(path)
    from bot.config import load_settings

    return load_settings().db_path


# ---------------------------------------------------------------- catalog import


@user_errors
def run_catalog_import(args: argparse.Namespace) -> int:
    from adapters.storage.catalog_download import TIDYTUESDAY_URL
    from adapters.storage.database import open_database

    path = getattr(args, "path", None)
    url = getattr(args, "url", None) or TIDYTUESDAY_URL
    db = open_database(_db_path(args))
    try:
        if path is not None:
            return _import(db, Path(path))
        with tempfile.TemporaryDirectory(prefix="aidj-") as folder:
            file = Path(folder) / "spotify_songs.csv"
            _download(url, file, "the TidyTuesday catalog" if url == TIDYTUESDAY_URL else "")
            return _import(db, file)
    finally:
        db.close()


def _download(url: str, file: Path, what: str = "") -> None:
    from adapters.storage.catalog_download import download_catalog

    print(f"Downloading {what or 'the catalog'} from {url} ...", file=sys.stderr)
    started = time.perf_counter()
    download_catalog(file, url)
    size = file.stat().st_size
    seconds = time.perf_counter() - started
    print(f"Downloaded {size / 1e6:.1f} MB in {seconds:.1f} s", file=sys.stderr)


def _import(db: Database, path: Path) -> int:
    from adapters.storage.catalog_import import import_catalog

    summary = import_catalog(db, path, progress=sys.stderr.isatty())
    print("\n".join(summary.lines()))
    print("Next: `aidj anchors build` to (re)build the per-scene anchor table.")
    return EXIT_OK


# ---------------------------------------------------------------- anchors


@user_errors
def run_anchors_build(args: argparse.Namespace) -> int:
    from adapters.storage.anchors_store import build_anchor_table
    from adapters.storage.database import open_database
    from core.anchors import ANCHOR_SIZE, RULE_GENRES_AND_WINDOW
    from core.categories import CATEGORIES

    db = open_database(_db_path(args))
    try:
        started = time.perf_counter()
        anchors = build_anchor_table(db)
        seconds = time.perf_counter() - started
    finally:
        db.close()
    by_id = {anchor.category_id: anchor for anchor in anchors}
    print(f"Built {len(anchors)} of {len(CATEGORIES)} anchors in {seconds:.2f} s")
    print(_ROW.format("category", "valence", "energy", "n", "rule"))
    for category in CATEGORIES:
        anchor = by_id.get(category.id)
        if anchor is None:
            print(_ROW.format(category.id, "-", "-", 0, "none: category defaults in use"))
            continue
        point = anchor.point
        print(
            _ROW.format(
                category.id,
                f"{point.valence:.3f}",
                f"{point.energy:.3f}",
                anchor.track_count,
                anchor.rule,
            )
        )
    thin = [
        a.category_id
        for a in anchors
        if a.rule != RULE_GENRES_AND_WINDOW or a.track_count < ANCHOR_SIZE
    ]
    if thin:
        print(
            "Note: widened past genres+window (or under 100 tracks) for "
            + ", ".join(thin)
            + "; a catalog with more genres (the Spotify Tracks Dataset) fits them better."
        )
    missing = [c.id for c in CATEGORIES if c.id not in by_id]
    if missing:
        print(f"aidj: no track qualifies for {', '.join(missing)}", file=sys.stderr)
        return EXIT_DATA
    return EXIT_OK


_ROW = "{:<16} {:>8} {:>8} {:>5}  {}"


@user_errors
def run_anchors_show(args: argparse.Namespace) -> int:
    from adapters.storage.anchors_store import stored_anchors
    from adapters.storage.database import open_database
    from core.categories import CATEGORIES

    db = open_database(_db_path(args))
    try:
        anchors = {anchor.category_id: anchor for anchor in stored_anchors(db)}
    finally:
        db.close()
    if not anchors:
        print(
            "aidj: no anchor table yet (category defaults are in use); run `aidj anchors build`",
            file=sys.stderr,
        )
        return EXIT_DATA
    built_at = max(anchor.built_at for anchor in anchors.values())
    print(f"Anchor table built {built_at}")
    print(_ROW.format("category", "valence", "energy", "n", "rule"))
    for category in CATEGORIES:
        anchor = anchors.get(category.id)
        if anchor is None:
            v, e = f"{category.default_valence:.3f}", f"{category.default_energy:.3f}"
            print(_ROW.format(category.id, v, e, 0, "defaults (no anchor)"))
        else:
            v, e = f"{anchor.valence:.3f}", f"{anchor.energy:.3f}"
            print(_ROW.format(category.id, v, e, anchor.track_count, anchor.rule))
    return EXIT_OK


# ---------------------------------------------------------------- db


@user_errors
def run_db_migrate(args: argparse.Namespace) -> int:
    from adapters.storage.database import open_and_migrate
    from migrations import applied_migrations

    path = _db_path(args)
    db, new = open_and_migrate(path)
    try:
        names = applied_migrations(db)
    finally:
        db.close()
    if new:
        print(f"Applied {len(new)} migration(s) to {path}: {', '.join(new)}")
    else:
        print(f"{path} is up to date ({len(names)} migration(s) applied)")
    return EXIT_OK
