"""Catalog benchmark: import, anchor build, and nearest-track queries (R*Tree vs full scan).

    .venv/bin/python -m bench.catalog [--rows 100000] [--queries 300] [--csv PATH]

Prints import time (and how long the import held the write lock) for the shared TidyTuesday
CSV (when present) and for a synthetic CSV in the Spotify Tracks Dataset format, the anchor
build time, and query p50 (the median) and p95 over random targets and categories for the
R*Tree search and for a naive full scan of the genres (``tests.full_scan``, the reference the
tests hold the search to), with the ratio of the medians.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from sqlite_utils import Database

from adapters.storage.anchors_store import build_anchor_table
from adapters.storage.catalog_import import import_catalog
from adapters.storage.database import open_database
from adapters.storage.track_search import nearest
from core.categories import CATEGORIES
from core.mood import MoodPoint
from tests.full_scan import nearest_by_scan

REPO = Path(__file__).resolve().parent.parent
SHARED_CSV = REPO.parent / "shared" / "data" / "spotify_songs.csv"
_BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
HEADER = (
    ",track_id,artists,album_name,track_name,popularity,duration_ms,explicit,danceability,"
    "energy,key,loudness,mode,speechiness,acousticness,instrumentalness,liveness,valence,"
    "tempo,time_signature,track_genre\n"
)


def write_tracks_dataset(path: Path, rows: int, seed: int = 0) -> None:
    """A Tracks-Dataset-like CSV: 114 genres (all seed genres among them), a row per
    (track, genre), about 1 in 5 tracks under a second genre, artists with several tracks,
    features clustered per genre the way real genres are."""
    rng = random.Random(seed)
    seeds = sorted({g for c in CATEGORIES for g in c.seed_genres})
    genres = seeds + [f"genre-{i}" for i in range(114 - len(seeds))]
    centres = {g: (rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.9)) for g in genres}
    lines = [HEADER]
    index = 0
    number = 0
    while index < rows:
        number += 1
        tid = "".join(rng.choice(_BASE62) for _ in range(22))
        own = [rng.choice(genres)]
        if rng.random() < 0.2:
            own.append(rng.choice(genres))
        cv, ce = centres[own[0]]
        valence = min(1.0, max(0.0, rng.gauss(cv, 0.2)))
        energy = min(1.0, max(0.0, rng.gauss(ce, 0.2)))
        artist = f"Artist {rng.randint(0, rows // 4)}"
        if rng.random() < 0.1:
            artist += f";Guest {rng.randint(0, 5000)}"
        for genre in dict.fromkeys(own):
            lines.append(
                f"{index},{tid},{artist},Album {number % 20000},Song {number},"
                f"{rng.randint(0, 100)},{rng.randint(90_000, 400_000)},False,"
                f"{rng.random():.3f},{energy:.3f},{rng.randint(0, 11)},"
                f"{rng.uniform(-30, -2):.3f},{rng.randint(0, 1)},{rng.random() * 0.3:.4f},"
                f"{rng.random():.4f},{rng.random() * 0.5:.4f},{rng.random() * 0.6:.4f},"
                f"{valence:.3f},{rng.uniform(60, 200):.3f},4,{genre}\n"
            )
            index += 1
    path.write_text("".join(lines[: rows + 1]), encoding="utf-8")


def timed(label: str, action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    seconds = time.perf_counter() - started
    print(f"  {label:<44} {seconds:7.2f} s")
    return seconds


def query_times(
    db: Database, search: Callable, cases: list[tuple[MoodPoint, tuple[str, ...], set[str]]]
) -> list[float]:
    times = []
    for target, genres, exclude in cases:
        started = time.perf_counter()
        search(db, target, genres, 10, exclude)
        times.append((time.perf_counter() - started) * 1000)
    return sorted(times)


def percentile(sorted_values: list[float], fraction: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(fraction * len(sorted_values)))]


def bench_queries(db: Database, count: int, seed: int = 1) -> None:
    rng = random.Random(seed)
    covered = [c for c in CATEGORIES if _has_genres(db, c.seed_genres)]
    cases = []
    for _ in range(count):
        category = rng.choice(covered)
        target = MoodPoint(rng.random(), rng.random())
        cases.append((target, category.seed_genres, set()))
    # regenerate-style queries: exclude what the first card showed
    regen = [(t, g, {x.id for x in nearest(db, t, g, 10)}) for t, g, _ in cases[: count // 3]]
    for label, batch in (("first card", cases), ("regenerate (10 excluded)", regen)):
        fast = query_times(db, nearest, batch)
        slow = query_times(db, nearest_by_scan, batch)
        p50, p95 = percentile(fast, 0.5), percentile(fast, 0.95)
        s50, s95 = percentile(slow, 0.5), percentile(slow, 0.95)
        print(
            f"  {label:<26} R*Tree p50 {p50:6.2f} ms  p95 {p95:6.2f} ms | "
            f"full scan p50 {s50:7.2f} ms  p95 {s95:7.2f} ms | p50 ratio {s50 / p50:5.1f}x"
        )
    checked = cases[:100]
    mismatches = sum(
        [t.id for t in nearest(db, *case[:2], 10, case[2])]
        != [t.id for t in nearest_by_scan(db, *case[:2], 10, case[2])]
        for case in checked
    )
    print(f"  same result as the full scan: {len(checked) - mismatches}/{len(checked)} queries")


def _has_genres(db: Database, genres: tuple[str, ...]) -> bool:
    marks = ", ".join("?" * len(genres))
    sql = f"SELECT 1 FROM genres WHERE slug IN ({marks}) AND track_count > 0 LIMIT 1"
    return db.execute(sql, list(genres)).fetchone() is not None


def run_catalog(name: str, csv_path: Path, folder: Path, queries: int) -> None:
    print(f"{name}: {csv_path}")
    db = open_database(folder / f"{name}.db")
    summary = None

    def first() -> None:
        nonlocal summary
        summary = import_catalog(db, csv_path)

    timed("import (fresh database)", first)
    assert summary is not None
    print(
        f"    {summary.rows_read:,} rows -> {summary.catalog_tracks:,} tracks, "
        f"{summary.catalog_genres} genres, {summary.skipped_total} skipped"
    )
    print(f"    write lock held {summary.counts.lock_seconds:.2f} s (the bot's writes wait this)")
    timed("re-import (same file, nothing changes)", lambda: import_catalog(db, csv_path))
    timed("anchors build", lambda: build_anchor_table(db))
    bench_queries(db, queries)
    db.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="synthetic CSV rows")
    parser.add_argument("--queries", type=int, default=300, help="random queries per catalog")
    parser.add_argument("--csv", type=Path, default=SHARED_CSV, help="the TidyTuesday CSV")
    args = parser.parse_args(argv)
    print(f"Python {sys.version.split()[0]}, SQLite {__import__('sqlite3').sqlite_version}")
    with tempfile.TemporaryDirectory(prefix="aidj-bench-") as tmp:
        folder = Path(tmp)
        if args.csv.exists():
            run_catalog("tidytuesday", args.csv, folder, args.queries)
        else:
            print(f"tidytuesday: {args.csv} not found, skipped")
        synthetic = folder / "tracks_dataset.csv"
        started = time.perf_counter()
        write_tracks_dataset(synthetic, args.rows)
        print(f"(wrote {args.rows:,} synthetic rows in {time.perf_counter() - started:.1f} s)")
        run_catalog("tracks-dataset", synthetic, folder, args.queries)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
