"""Throughput and latency of the model step: the local worker against Ray Serve.

On full-size random models (``bench.analyze`` builds them offline), a bot process (the real
wiring of `aidj run`, the chat libraries imported) sends photo + caption requests at 1, 8, 32
and 128 at once, ``max(16, 2 x level)`` per level, to:

(a) the local worker process (``ModelWorker``, torch on every core);
(b) Ray Serve, 1 replica holding every core;
(c) Ray Serve, 2 replicas of one core each.

Each Serve case runs `aidj models serve` (a local Ray held by that process, every socket on
127.0.0.1) and points the bot process at it with ``AIDJ_MODEL_SERVER``. Printed: analyses per
second and p50/p95 latency per level, Ray's added p50 latency at 1 request against the local
worker, and the bot process' resident memory (and its worker child's). Run:
``python -m bench.serve [--levels 1,8,32,128] [--models-dir DIR]``.

Ray's added latency is also measured paired: with the 1-replica application up, one bot
process holds both readers and sends one request at a time, alternately to the local worker
and to Serve (``PAIRS`` pairs). The cases above run minutes apart, and on a shared machine
the drift between them is larger than the figure sought; within a pair it is not. Printed:
the median of the per-pair differences.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

LEVELS = (1, 8, 32, 128)
WARM_UP = 3
PAIRS = 16
QUEUE = 1000  # this bench measures queueing; the product default (64) refuses the excess
# Ray off the network (loopback addresses, no usage report); the bot process joins with the
# token the local Ray made (~/.ray/auth_token)
RAY_ENV = {
    "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
    "RAY_USAGE_STATS_ENABLED": "0",
    "RAY_AUTH_MODE": "token",
}


# ---------------------------------------------------------------- the bot process (child)


async def measure(clip: Path, nli: Path, levels: list[int], server: str | None) -> dict[str, Any]:
    """In a bot process of its own: wire the flow as `aidj run` does, then load it."""
    # what a bot process holds besides the flow: both chat libraries
    import adapters.chat.discord_bot
    import adapters.chat.telegram_bot  # noqa: F401
    from bench.analyze import rss_mb
    from bot.wiring import service_context

    items = _items()
    with tempfile.TemporaryDirectory() as folder:
        settings = _settings(clip, nli, Path(folder) / "aidj.db", server)
        async with service_context(settings, with_models=True, worker=True, plane=False) as flow:
            rss_ready = _memory()
            for image, caption in items[:WARM_UP]:
                await flow.read(image, caption)
            results = {str(level): await _level(flow, items, level) for level in levels}
            rss_loaded = _memory()
        heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
        return {
            "levels": results,
            "rss_ready": rss_ready,
            "rss_loaded": rss_loaded,
            "peak_mb": rss_mb()["peak"],
            "heavy_modules": heavy,
        }


async def measure_paired(clip: Path, nli: Path, server: str) -> dict[str, Any]:
    """One request at a time, alternately through the local worker and through ``server``."""
    from bot.wiring import service_context

    items = _items()
    with tempfile.TemporaryDirectory() as folder:
        local_settings = _settings(clip, nli, Path(folder) / "local.db", None)
        serve_settings = _settings(clip, nli, Path(folder) / "serve.db", server)
        async with (
            service_context(local_settings, with_models=True, worker=True, plane=False) as local,
            service_context(serve_settings, with_models=True, worker=True, plane=False) as serve,
        ):
            for image, caption in items[:WARM_UP]:
                await local.read(image, caption)
                await serve.read(image, caption)
            pairs = []
            for index in range(PAIRS):
                image, caption = items[index % len(items)]
                on_local = await _timed(local, image, caption)
                pairs.append((on_local, await _timed(serve, image, caption)))
    return {
        "local_ms": statistics.median(on_local for on_local, _ in pairs),
        "serve_ms": statistics.median(on_serve for _, on_serve in pairs),
        "added_ms": statistics.median(on_serve - on_local for on_local, on_serve in pairs),
        "pairs": len(pairs),
    }


async def _timed(flow: Any, image: bytes, caption: str) -> float:
    started = time.perf_counter()
    await flow.read(image, caption)
    return (time.perf_counter() - started) * 1000


def _items() -> list[tuple[bytes, str]]:
    from bench.analyze import CAPTIONS, photo

    photos = [photo(seed) for seed in range(len(CAPTIONS))]
    return list(zip(photos, CAPTIONS, strict=True))


def _settings(clip: Path, nli: Path, db_path: Path, server: str | None) -> Any:
    from bot.config import load_settings

    env = {"AIDJ_MODEL_SERVER": server} if server else {}
    return load_settings(
        env,
        dotenv=False,
        clip_model=str(clip),
        nli_model=str(nli),
        db_path=db_path,
        worker_timeout_s=900.0,  # queueing at 128 takes minutes on 2 cores: no timeouts
        worker_start_timeout_s=900.0,
    )


async def _level(flow: Any, items: list[tuple[bytes, str]], level: int) -> dict[str, float]:
    total = max(16, 2 * level)
    gate = asyncio.Semaphore(level)
    latencies: list[float] = []

    async def one(index: int) -> None:
        image, caption = items[index % len(items)]
        async with gate:
            latencies.append(await _timed(flow, image, caption))

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(total)))
    wall = time.perf_counter() - started
    cuts = statistics.quantiles(latencies, n=20)
    return {
        "requests": total,
        "per_s": total / wall,
        "p50_ms": statistics.median(latencies),
        "p95_ms": cuts[18],
    }


def _memory() -> dict[str, float]:
    """VmRSS of this process and of its children (the local worker), in MiB."""
    own = _rss(os.getpid())
    children = sum(_rss(pid) for pid in _children(os.getpid()))
    return {"bot": own, "children": children}


def _rss(pid: int) -> float:
    with contextlib.suppress(OSError):
        text = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
        if match:
            return int(match.group(1)) / 1024
    return 0.0


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found


# ---------------------------------------------------------------- driver


@contextlib.contextmanager
def model_server(clip: Path, nli: Path, replicas: int, cpus: int) -> Iterator[str]:
    """`aidj models serve` on a local Ray of its own; yields AIDJ_MODEL_SERVER."""
    command = [sys.executable, "-m", "bot.cli", "models", "serve", "--app", "bench"]
    command += ["--replicas", str(replicas), "--cpus", str(cpus)]
    command += ["--clip-model", str(clip), "--nli-model", str(nli)]
    env = {**os.environ, **RAY_ENV, "AIDJ_WORKER_START_TIMEOUT_S": "900"}
    env["AIDJ_SERVE_MAX_QUEUED"] = str(QUEUE)  # a deployment option: callers enforce it
    env.pop("RAY_ADDRESS", None)
    server = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    )
    assert server.stdout is not None
    try:
        address = _server_address(server)
        yield address
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=120)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _server_address(server: subprocess.Popen[str]) -> str:
    """The AIDJ_MODEL_SERVER line `aidj models serve` prints once the replicas are up (its
    own deploy timeout bounds the wait: it exits instead of hanging)."""
    assert server.stdout is not None
    for line in server.stdout:
        if line.startswith("Point the bots at it: AIDJ_MODEL_SERVER="):
            return line.strip().split("=", 1)[1]
    raise SystemExit(f"aidj models serve did not come up (exit code {server.wait()})")


def _run_child(
    clip: Path, nli: Path, levels: list[int], server: str | None, *, paired: bool = False
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.serve", "--measure", "--clip", str(clip)]
    command += ["--nli", str(nli), "--levels", ",".join(map(str, levels))]
    if server:
        command += ["--server", server]
    if paired:
        command.append("--paired")
    env = {**os.environ, **RAY_ENV}
    completed = subprocess.run(command, capture_output=True, text=True, check=False, env=env)
    if completed.returncode != 0:
        raise SystemExit(f"bot process failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def report(
    results: dict[str, dict[str, Any]],
    levels: list[int],
    loads: list[str],
    paired: dict[str, Any] | None = None,
) -> str:
    lines = [
        f"{os.cpu_count()} CPUs; load average (1/5/15 min) before each case: {'; '.join(loads)}",
        "(other engineers share this machine: timings are skewed by their work)",
        "",
        f"{'case':<26} {'at once':>7} {'requests':>8} {'analyses/s':>10} "
        f"{'p50 ms':>8} {'p95 ms':>8}",
    ]
    for name, result in results.items():
        for level in levels:
            row = result["levels"][str(level)]
            lines.append(
                f"{name:<26} {level:>7} {row['requests']:>8} {row['per_s']:>10.2f} "
                f"{row['p50_ms']:>8.0f} {row['p95_ms']:>8.0f}"
            )
    local = results.get("(a) local worker")
    single = results.get("(b) Serve, 1 replica")
    if local and single and "1" in local["levels"] and "1" in single["levels"]:
        added = single["levels"]["1"]["p50_ms"] - local["levels"]["1"]["p50_ms"]
        lines += ["", f"Ray's added p50 latency at 1 request: {added:+.1f} ms (goal: < 10 ms)"]
    if paired:
        lines += [
            "",
            f"paired, {paired['pairs']} alternating requests at 1 at once: local worker "
            f"{paired['local_ms']:.0f} ms, Serve {paired['serve_ms']:.0f} ms (medians); "
            f"Ray's added latency, median of the differences: {paired['added_ms']:+.1f} ms "
            "(goal: < 10 ms)",
        ]
    lines += ["", "bot process resident memory (MiB, VmRSS): ready / after the load"]
    for name, result in results.items():
        ready, loaded = result["rss_ready"], result["rss_loaded"]
        lines.append(
            f"{name:<26} bot {ready['bot']:>6.0f} / {loaded['bot']:>6.0f}   "
            f"its children {ready['children']:>6.0f} / {loaded['children']:>6.0f}   "
            f"torch imported: {'yes' if result['heavy_modules'] else 'no'}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)), help="e.g. 1,8,32")
    parser.add_argument("--models-dir", type=Path, help="build the full-size models here, reuse")
    parser.add_argument(
        "--cases",
        default="local,serve1,serve2,paired",
        help="which of local, serve1, serve2, paired (alternating local and 1-replica Serve)",
    )
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--clip", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--nli", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--server", help=argparse.SUPPRESS)
    parser.add_argument("--paired", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    levels = [int(level) for level in args.levels.split(",")]
    if args.measure:
        if args.paired:
            measured = asyncio.run(measure_paired(args.clip, args.nli, args.server))
        else:
            measured = asyncio.run(measure(args.clip, args.nli, levels, args.server))
        print(json.dumps(measured))
        return 0
    from bench.analyze import full_models

    cases = args.cases.split(",")
    results: dict[str, dict[str, Any]] = {}
    paired: dict[str, Any] | None = None
    loads: list[str] = []
    with contextlib.ExitStack() as stack:
        root = args.models_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        clip, nli = full_models(root)
        cpus = os.cpu_count() or 1
        if "local" in cases:
            loads.append(_load())
            results["(a) local worker"] = _run_child(clip, nli, levels, None)
        for case, name, replicas, each in (
            ("serve1", "(b) Serve, 1 replica", 1, cpus),
            ("serve2", "(c) Serve, 2 replicas", 2, max(1, cpus // 2)),
        ):
            with_pairs = case == "serve1" and "paired" in cases
            if case in cases or with_pairs:
                with model_server(clip, nli, replicas, each) as server:
                    loads.append(_load())
                    if case in cases:
                        results[name] = _run_child(clip, nli, levels, server)
                    if with_pairs:
                        paired = _run_child(clip, nli, [1], server, paired=True)
    print(report(results, levels, loads, paired))
    return 0


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
