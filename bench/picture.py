"""The mood-plane picture: what one costs, and what drawing them does to a busy bot.

(a) One picture: the renderer before the static plane was cached (read from git at
    ``BASELINE_REV``) against the current one, over a set of varied cards (anchors, moves,
    tracks, highlights), median of ``--runs`` renders of each after a warm-up pass. Wall
    time and the thread's CPU time (steadier on a shared machine), the ratio, the PNG size,
    whether the pixels are identical, and the first card after the anchors change (the
    static plane is drawn then). Then the PNG encoders compared on one finished picture.
(b) ``--requests`` photos at once through the real ``MoodService`` (tiny in-process models,
    a synthetic catalog, a rate limit nobody reaches), without the picture, with the old
    renderer and with the current one: cards/s, p50/p95 latency and how late a ticker task
    that sleeps 5 ms at a time wakes up (the event loop's lag, max and p99). The three
    modes take turns, ``--runs`` bursts each after a warm-up burst; medians are printed,
    and the worst lag of any burst.

Run: ``python -m bench.picture [--runs 5] [--requests 200]`` (set AIDJ_TINY_MODELS_DIR to
reuse built tiny models).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import importlib.util
import io
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

from PIL import Image

REPO = Path(__file__).resolve().parent.parent
BASELINE_REV = "941eeaf"  # the last commit that drew every card from scratch
CARDS = 24  # varied cards for (a)
TICK_S = 0.005
CAPTIONS = (
    "비가 오지만 오늘 좋은 일이 있어서 신나!",
    "Just coffee and a good book on a quiet rainy afternoon.",
    "친구들이랑 파티하러 간다! 오늘 밤은 신나게 놀 거야",
    "What a calm and quiet evening by the window.",
    "",
)

Render = Callable[..., bytes]


# ---------------------------------------------------------------- the two renderers


def baseline_renderer(rev: str = BASELINE_REV) -> ModuleType:
    """The mood-plane module as it was at ``rev`` (it imports only modules still here)."""
    source = subprocess.run(
        ["git", "show", f"{rev}:adapters/render/mood_plane.py"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    spec = importlib.util.spec_from_loader("bench_baseline_mood_plane", loader=None)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    exec(compile(source, f"{rev}:adapters/render/mood_plane.py", "exec"), module.__dict__)
    return module


def varied_cards(count: int, seed: int = 0) -> list[tuple[Any, ...]]:
    """``render_mood_plane`` arguments: learned and default anchors, long and no moves,
    ten tracks around the target, every category highlighted in turn."""
    from core.categories import CATEGORIES
    from core.mood import MoodPoint
    from core.tracks import Track

    rng = random.Random(seed)
    learned = {
        c.id: MoodPoint(
            min(1.0, max(0.0, c.default_valence + rng.uniform(-0.08, 0.08))),
            min(1.0, max(0.0, c.default_energy + rng.uniform(-0.08, 0.08))),
        )
        for c in CATEGORIES
    }
    cards = []
    for n in range(count):
        category = CATEGORIES[n % len(CATEGORIES)]
        anchors = learned if n % 3 else {}
        base = anchors.get(category.id) or MoodPoint(
            category.default_valence, category.default_energy
        )
        move = 0.0 if n % 5 == 0 else 0.2
        target = MoodPoint(
            min(1.0, max(0.0, base.valence + rng.uniform(-move, move))),
            min(1.0, max(0.0, base.energy + rng.uniform(-move, move))),
        )
        tracks = [
            Track(
                id=f"t{n}-{k}",
                name=f"Song {k}",
                artists=("Artist",),
                valence=min(1.0, max(0.0, target.valence + rng.gauss(0, 0.05))),
                energy=min(1.0, max(0.0, target.energy + rng.gauss(0, 0.05))),
            )
            for k in range(10)
        ]
        cards.append((anchors, base, target, tracks, "en", category.id))
    return cards


# ---------------------------------------------------------------- (a) one picture


def time_renders(render: Render, cards: list[tuple[Any, ...]], runs: int) -> dict[str, float]:
    """Median wall and CPU ms of one render, over ``runs`` passes of ``cards``."""
    for card in cards:
        render(*card)  # warm-up: fonts, caches, first-call allocations
    wall, cpu = [], []
    for _ in range(runs):
        for card in cards:
            started, started_cpu = time.perf_counter(), time.thread_time()
            render(*card)
            cpu.append((time.thread_time() - started_cpu) * 1000)
            wall.append((time.perf_counter() - started) * 1000)
    return {"wall_ms": statistics.median(wall), "cpu_ms": statistics.median(cpu)}


def identical_pixels(old: Render, new: Render, cards: list[tuple[Any, ...]]) -> int:
    """How many of ``cards`` come out with the very same pixels from both renderers."""
    return sum(_pixels(old(*card)) == _pixels(new(*card)) for card in cards)


def _pixels(png: bytes) -> bytes:
    return Image.open(io.BytesIO(png)).convert("RGB").tobytes()


def first_card_ms(cards: list[tuple[Any, ...]], runs: int) -> float:
    """A card right after the anchors changed: the static plane is drawn, no label cached."""
    from adapters.render.mood_plane import render_mood_plane, static_plane

    samples = []
    for _ in range(runs):
        static_plane.cache_clear()
        started = time.perf_counter()
        render_mood_plane(*cards[0])
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def encoders(picture: Image.Image, runs: int) -> list[tuple[str, float, int, bool]]:
    """(name, median ms, bytes, lossless) for ways of writing ``picture`` as a PNG."""
    from adapters.render.png import encode_png

    def pillow(image: Image.Image, **options: Any) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", **options)
        return buffer.getvalue()

    def palette() -> bytes:
        quantized = picture.quantize(256, method=Image.Quantize.FASTOCTREE)
        return pillow(quantized, compress_level=1)

    ways: list[tuple[str, Callable[[], bytes]]] = [
        ("Pillow optimize=True (before)", lambda: pillow(picture, optimize=True)),
        ("Pillow compress_level=1", lambda: pillow(picture, compress_level=1)),
        ("Pillow 256-colour palette, level 1", palette),
        ("encode_png, zlib level 6", lambda: encode_png(picture, 6)),
        ("encode_png, zlib level 1 (now)*", lambda: encode_png(picture)),
    ]
    rows = []
    for name, write in ways:
        data = write()
        ms = _median_ms(write, runs)
        rows.append((name, ms, len(data), _pixels(data) == picture.tobytes()))
    return rows


def _median_ms(call: Callable[[], object], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


# ---------------------------------------------------------------- (b) a burst of requests


@contextlib.contextmanager
def mood_services(models_dir: Path) -> Iterator[dict[str, Any]]:
    """MoodService without and with the picture, over tiny models and a synthetic catalog."""
    from adapters.models.in_process import InProcessAnalyzer
    from adapters.models.loading import quiet_loading
    from adapters.storage.database import open_database
    from adapters.storage.gateway import Storage
    from bot.config import load_settings
    from bot.service import MoodService
    from tests.catalog_factory import build_synthetic_catalog
    from tests.tiny_models import build_tiny_models

    models = build_tiny_models(models_dir)
    with tempfile.TemporaryDirectory() as scratch:
        db_path = Path(scratch) / "aidj.db"
        build_synthetic_catalog(db_path).close()
        settings = load_settings(
            {},
            dotenv=False,
            clip_model=str(models.clip),
            nli_model=str(models.nli),
            db_path=db_path,
            torch_threads=1,
        )
        settings = dataclasses.replace(settings, rate_limit_per_minute=1_000_000)
        with quiet_loading():
            analyzer = InProcessAnalyzer(settings)
        db = open_database(db_path)
        try:
            yield {
                "none": MoodService(analyzer, Storage(db), settings, render_plane=False),
                "picture": MoodService(analyzer, Storage(db), settings),
            }
        finally:
            db.close()


async def burst(service: Any, requests: int, photos: list[bytes]) -> dict[str, float]:
    """``requests`` photos at once: cards/s, latency p50/p95 (s), loop lag max/p99 (ms)."""
    from core.flow import PhotoRequest

    lags: list[float] = []
    done = asyncio.Event()

    async def ticker() -> None:
        while not done.is_set():
            started = time.perf_counter()
            await asyncio.sleep(TICK_S)
            lags.append(time.perf_counter() - started - TICK_S)

    async def one(n: int) -> float:
        request = PhotoRequest(
            platform="telegram",
            chat_id=f"chat{n}",
            user_id=f"user{n}",
            image=photos[n % len(photos)],
            caption=CAPTIONS[n % len(CAPTIONS)],
            locale="ko" if n % 4 == 0 else "en",
        )
        card = await service.recommend(request)
        assert card.tracks, "every request should get tracks"
        return time.perf_counter() - started

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)  # the ticker's first samples: an idle loop
    started = time.perf_counter()
    latencies = sorted(await asyncio.gather(*(one(n) for n in range(requests))))
    elapsed = time.perf_counter() - started
    done.set()
    await tick
    lags.sort()
    return {
        "cards_s": requests / elapsed,
        "p50_s": _quantile(latencies, 0.50),
        "p95_s": _quantile(latencies, 0.95),
        "lag_max_ms": lags[-1] * 1000,
        "lag_p99_ms": _quantile(lags, 0.99) * 1000,
    }


def _quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


@contextlib.contextmanager
def renderer(module: ModuleType | None) -> Iterator[None]:
    """Make ``MoodService`` draw with ``module``'s renderer (it imports the function per card)."""
    import adapters.render.mood_plane as current

    if module is None:
        yield
        return
    calls = []

    def counted(*args: Any) -> bytes:
        calls.append(None)
        return module.render_mood_plane(*args)

    kept = current.render_mood_plane
    current.render_mood_plane = counted
    try:
        yield
    finally:
        current.render_mood_plane = kept
    if not calls:
        raise RuntimeError("MoodService did not draw with the swapped-in renderer")


async def bursts(
    services: dict[str, Any], old: ModuleType, requests: int, runs: int
) -> dict[str, dict[str, float]]:
    """Medians over ``runs`` bursts of each mode, the modes taking turns."""
    from tests.conftest import make_photo

    photos = [make_photo((40 * n % 256, 90 + 20 * n % 160, 160 - 10 * n)) for n in range(8)]
    modes: dict[str, tuple[Any, ModuleType | None]] = {
        "no picture": (services["none"], None),
        "picture, before": (services["picture"], old),
        "picture, now": (services["picture"], None),
    }
    results: dict[str, list[dict[str, float]]] = {mode: [] for mode in modes}
    for service, module in modes.values():
        with renderer(module):
            await burst(service, min(requests, 24), photos)  # warm-up: models, caches
    for _ in range(runs):
        for mode, (service, module) in modes.items():
            with renderer(module):
                results[mode].append(await burst(service, requests, photos))
    summary = {}
    for mode, samples in results.items():
        summary[mode] = {key: statistics.median(run[key] for run in samples) for key in samples[0]}
        summary[mode]["lag_worst_ms"] = max(run["lag_max_ms"] for run in samples)
    return summary


# ---------------------------------------------------------------- driver


def report_one(old: dict[str, float], new: dict[str, float], extra: dict[str, Any]) -> str:
    lines = [
        f"(a) one picture, {CARDS} varied cards, median of {extra['runs']} renders each:",
        f"{'renderer':<22} {'wall ms':>8} {'cpu ms':>8}",
        f"{'before (' + BASELINE_REV + ')':<22} {old['wall_ms']:>8.1f} {old['cpu_ms']:>8.1f}",
        f"{'now':<22} {new['wall_ms']:>8.1f} {new['cpu_ms']:>8.1f}",
        f"ratio: {old['wall_ms'] / new['wall_ms']:.1f}x faster (wall), "
        f"{old['cpu_ms'] / new['cpu_ms']:.1f}x (cpu)",
        f"identical pixels: {extra['identical']}/{CARDS} cards; PNG "
        f"{extra['old_bytes'] / 1024:.0f} KiB before, {extra['new_bytes'] / 1024:.0f} KiB now",
        f"first card after the anchors change (static plane drawn): {extra['first_ms']:.1f} ms",
        "",
        "PNG encoders on one card:",
        f"{'encoder':<36} {'ms':>6} {'KiB':>5} lossless",
    ]
    for name, ms, size, lossless in extra["encoders"]:
        lines.append(f"{name:<36} {ms:>6.1f} {size / 1024:>5.0f} {'yes' if lossless else 'no'}")
    lines.append("* a card deflates only the bands of rows it changed, the rest are the plane's")
    return "\n".join(lines)


def report_burst(results: dict[str, dict[str, float]], requests: int, runs: int) -> str:
    lines = [
        f"(b) {requests} concurrent requests through MoodService (tiny models), "
        f"median of {runs} bursts:",
        f"{'mode':<18} {'cards/s':>8} {'p50 s':>7} {'p95 s':>7} {'lag max ms':>11} "
        f"{'lag p99 ms':>11} {'worst burst':>12}",
    ]
    for mode, r in results.items():
        lines.append(
            f"{mode:<18} {r['cards_s']:>8.1f} {r['p50_s']:>7.2f} {r['p95_s']:>7.2f} "
            f"{r['lag_max_ms']:>11.1f} {r['lag_p99_ms']:>11.1f} {r['lag_worst_ms']:>12.1f}"
        )
    lines.append("(worst burst: the largest lag max of any burst)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="renders per card, bursts per mode")
    parser.add_argument("--requests", type=int, default=200, help="requests in one burst")
    parser.add_argument("--baseline-rev", default=BASELINE_REV, help="git revision of (a)'s old")
    parser.add_argument("--only", choices=("picture", "burst"), help="run just (a) or (b)")
    args = parser.parse_args(argv)
    from adapters.render.mood_plane import render_mood_plane
    from tests.fixtures_models import tiny_models_dir

    old = baseline_renderer(args.baseline_rev)
    print(
        f"{os.cpu_count()} CPUs; load average (1/5/15 min) at the start: "
        + " ".join(f"{load:.2f}" for load in os.getloadavg())
        + " (other work on the machine skews wall times; cpu ms is this thread's own)"
    )
    if args.only != "burst":
        cards = varied_cards(CARDS)
        before = time_renders(old.render_mood_plane, cards, args.runs)
        now = time_renders(render_mood_plane, cards, args.runs)
        finished = Image.open(io.BytesIO(render_mood_plane(*cards[1]))).convert("RGB")
        extra = {
            "runs": args.runs,
            "identical": identical_pixels(old.render_mood_plane, render_mood_plane, cards),
            "old_bytes": statistics.median(len(old.render_mood_plane(*c)) for c in cards),
            "new_bytes": statistics.median(len(render_mood_plane(*c)) for c in cards),
            "first_ms": first_card_ms(cards, args.runs),
            "encoders": encoders(finished, args.runs),
        }
        print(report_one(before, now, extra), "\n", flush=True)
    if args.only != "picture":
        with mood_services(tiny_models_dir()) as services:
            results = asyncio.run(bursts(services, old, args.requests, args.runs))
        print(report_burst(results, args.requests, args.runs))
    print(
        "load average at the end: " + " ".join(f"{load:.2f}" for load in os.getloadavg()),
        file=sys.stderr,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
