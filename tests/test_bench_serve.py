"""``bench.serve``'s paired case: its statistics and its rotation, without Ray or models
(the bench itself needs minutes of a quiet machine; its figures are in the README)."""

from __future__ import annotations

import pytest

from bench import serve as bench_serve


def test_the_median_interval_brackets_the_median_and_repeats():
    values = [float(v) for v in range(1, 102)]
    low, high = bench_serve.median_interval(values)
    assert low < 51.0 < high
    assert high - low < 30  # 101 values pin the median far tighter than their range
    assert bench_serve.median_interval(values) == (low, high)  # seeded
    assert bench_serve.median_interval([4.0] * 20) == (4.0, 4.0)


class _Flow:
    def __init__(self, name: str, order: list[str]) -> None:
        self.name, self.order = name, order

    async def read(self, image: bytes, caption: str) -> None:
        self.order.append(self.name)


async def test_each_arm_goes_first_in_turn(monkeypatch):
    monkeypatch.setattr(bench_serve, "GAP_S", 0.0)
    order: list[str] = []
    flows = [_Flow(name, order) for name in ("local", "by value", "object store")]
    for index in range(3):
        timed = await bench_serve._round(flows, b"photo", "caption", index)
        assert len(timed) == 3 and all(t >= 0 for t in timed)
    assert order == [
        *("local", "by value", "object store"),
        *("by value", "object store", "local"),
        *("object store", "local", "by value"),
    ]


def test_the_report_gives_each_serve_arm_its_added_latency_and_interval():
    arms = list(bench_serve.ARMS)
    paired = {
        "rounds": 100,
        "local_ms": 540.0,
        arms[1]: {"ms": 545.0, "added_ms": 4.2, "added_interval_ms": (1.0, 7.5)},
        arms[2]: {"ms": 551.0, "added_ms": 11.0, "added_interval_ms": (8.0, 14.0)},
    }
    printed = bench_serve.report({}, [1], ["0.1 0.2 0.3"], paired)
    assert "100 rounds" in printed and "local worker 540 ms" in printed
    assert f"{arms[1]:<40}    545 ms  added   +4.2 ms  (95% interval +1.0 to +7.5)" in printed
    assert "added  +11.0 ms  (95% interval +8.0 to +14.0)" in printed


@pytest.mark.parametrize("arm", list(bench_serve.ARMS))
def test_each_arm_reaches_the_models_its_own_way(arm, tmp_path):
    server = "127.0.0.1:6379/bench"
    clip, nli, db_path = tmp_path / "clip", tmp_path / "nli", tmp_path / "aidj.db"
    settings = bench_serve.arm_settings(arm, clip, nli, db_path, server)
    expected = {
        "local worker": (None, 512),
        "Serve (photo by value)": ("127.0.0.1:6379/bench", 512),
        "Serve (photo through the object store)": ("127.0.0.1:6379/bench", 0),
    }[arm]
    model_server = None if settings.model_server is None else str(settings.model_server)
    assert (model_server, settings.serve_direct_max_kb) == expected
