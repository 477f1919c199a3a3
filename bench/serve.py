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
process holds three readers and sends one request at a time, to the local worker and to
Serve by each of its two transports (the photo by value, and through Ray's object store) in
turn, ``--rounds`` rounds, which goes first rotating. The cases above run minutes apart, and
on a shared machine the drift between them is larger than the figure sought; within a round
it is not. Printed: the median of the differences from the local worker within each round,
with a 95% bootstrap interval. A full-size analysis varies by tens of ms from one request to
the next, so the interval matters; ``--tiny DIR`` runs the paired case on the tests' tiny
models instead, where a request's compute is short and steady and the difference is the
transport.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
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
ROUNDS = 100
GAP_S = 0.25  # between the paired case's requests: each finds the machine idle
RESAMPLES = 2000  # bootstrap resamples for the interval of the paired median
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


# the paired case's ways to the model step: the local worker (no model server), then
# Serve's two transports, by the settings each bot process would have
ARMS: dict[str, dict[str, str] | None] = {
    "local worker": None,
    "Serve (photo by value)": {},
    "Serve (photo through the object store)": {"AIDJ_SERVE_DIRECT_MAX_KB": "0"},
}


async def measure_paired(clip: Path, nli: Path, server: str, rounds: int) -> dict[str, Any]:
    """One request at a time through each arm in turn; each Serve arm's difference from the
    local worker's request of the same round."""
    from bot.wiring import service_context

    items = _items()
    with tempfile.TemporaryDirectory() as folder:
        async with contextlib.AsyncExitStack() as stack:
            flows = []
            for index, arm in enumerate(ARMS):
                settings = arm_settings(arm, clip, nli, Path(folder) / f"{index}.db", server)
                context = service_context(settings, with_models=True, worker=True, plane=False)
                flows.append(await stack.enter_async_context(context))
            for image, caption in items[:WARM_UP]:
                for flow in flows:
                    await flow.read(image, caption)
            timings = [await _round(flows, *items[i % len(items)], i) for i in range(rounds)]
    figures: dict[str, Any] = {
        "rounds": len(timings),
        "local_ms": statistics.median(timed[0] for timed in timings),
    }
    for arm, name in enumerate(ARMS):
        if arm:
            differences = [timed[arm] - timed[0] for timed in timings]
            figures[name] = {
                "ms": statistics.median(timed[arm] for timed in timings),
                "added_ms": statistics.median(differences),
                "added_interval_ms": median_interval(differences),
            }
    return figures


def arm_settings(arm: str, clip: Path, nli: Path, db_path: Path, server: str) -> Any:
    """The settings of the bot process that reaches the models the way ``arm`` names."""
    env = ARMS[arm]
    return _settings(clip, nli, db_path, None if env is None else server, env)


async def _round(flows: list[Any], image: bytes, caption: str, index: int) -> list[float]:
    """One request through each flow, each to an idle machine (what the previous one left to
    do, such as Ray's bookkeeping, has ``GAP_S`` to finish); which goes first rotates with
    ``index``."""
    timed = [0.0] * len(flows)
    first = index % len(flows)
    for arm in [*range(first, len(flows)), *range(first)]:
        await asyncio.sleep(GAP_S)
        timed[arm] = await _timed(flows[arm], image, caption)
    return timed


def median_interval(values: list[float], resamples: int = RESAMPLES) -> tuple[float, float]:
    """A 95% percentile-bootstrap interval of the median of ``values`` (seeded: reruns on
    the same figures print the same interval)."""
    rng = random.Random(0)
    medians = sorted(
        statistics.median(rng.choices(values, k=len(values))) for _ in range(resamples)
    )
    return medians[int(0.025 * resamples)], medians[int(0.975 * resamples) - 1]


async def _timed(flow: Any, image: bytes, caption: str) -> float:
    started = time.perf_counter()
    await flow.read(image, caption)
    return (time.perf_counter() - started) * 1000


def _items() -> list[tuple[bytes, str]]:
    from bench.analyze import CAPTIONS, photo

    photos = [photo(seed) for seed in range(len(CAPTIONS))]
    return list(zip(photos, CAPTIONS, strict=True))


def _settings(
    clip: Path, nli: Path, db_path: Path, server: str | None, env: dict[str, str] | None = None
) -> Any:
    from bot.config import load_settings

    if server:
        env = {**(env or {}), "AIDJ_MODEL_SERVER": server}
    return load_settings(
        env or {},
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
    clip: Path, nli: Path, levels: list[int], server: str | None, *, rounds: int = 0
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.serve", "--measure", "--clip", str(clip)]
    command += ["--nli", str(nli), "--levels", ",".join(map(str, levels))]
    if server:
        command += ["--server", server]
    if rounds:
        command += ["--paired", "--rounds", str(rounds)]
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
            f"paired, {paired['rounds']} rounds of one request at a time: local worker "
            f"{paired['local_ms']:.0f} ms (median); Ray's added latency, the median of the "
            "differences in each round (goal: < 10 ms):",
        ]
        for name in list(ARMS)[1:]:
            arm = paired[name]
            low, high = arm["added_interval_ms"]
            lines.append(
                f"  {name:<40} {arm['ms']:>6.0f} ms  added {arm['added_ms']:+6.1f} ms  "
                f"(95% interval {low:+.1f} to {high:+.1f})"
            )
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
    parser.add_argument("--tiny", type=Path, help="use the tests' tiny models built here")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="rounds of the paired case")
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
            measured = asyncio.run(measure_paired(args.clip, args.nli, args.server, args.rounds))
        else:
            measured = asyncio.run(measure(args.clip, args.nli, levels, args.server))
        print(json.dumps(measured))
        return 0
    from bench.analyze import bench_models

    cases = args.cases.split(",")
    results: dict[str, dict[str, Any]] = {}
    paired: dict[str, Any] | None = None
    loads: list[str] = []
    with contextlib.ExitStack() as stack:
        root = args.models_dir or Path(stack.enter_context(tempfile.TemporaryDirectory()))
        clip, nli = bench_models(args.tiny, root)
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
                        paired = _run_child(clip, nli, [1], server, rounds=args.rounds)
    print(report(results, levels, loads, paired))
    return 0


def _load() -> str:
    return " ".join(f"{load:.2f}" for load in os.getloadavg())


if __name__ == "__main__":
    raise SystemExit(main())
