"""Aspect-ratio bombs (issue 9, point 4): a 1x30000 strip passes the pixel limit, and CLIP's
processor used to scale its short side up to the model's input (32 x 960000 pixels on the
tiny model, 224 x 6.7 million on the real one) before cropping it. Here the real worker
process reads such strips and its peak memory must stay that of a worker reading a photo.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from adapters.models.worker import ModelWorker
from core.categories import CATEGORY_BY_ID
from tests.photos import strip_png

PEAK_LIMIT_MIB = 600  # the tiny-model worker peaks near 360 MiB on a photo; 660 before the fix
STRIPS = [(1, 8000), (1, 30_000), (30_000, 1)]

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/status").exists(), reason="reads peak memory (VmHWM) from /proc"
)


def peak_rss_mib(pid: int) -> float:
    """The process' peak resident memory so far (VmHWM), in MiB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert match, "no VmHWM line in /proc/<pid>/status"
    return int(match.group(1)) / 1024


async def test_thin_strips_do_not_blow_up_the_worker(model_settings):
    async with ModelWorker(model_settings.model_options()) as worker:
        for width, height in STRIPS:
            reading = await worker.analyze(strip_png(width, height), "a long thin strip")
            assert reading.image.category_id in CATEGORY_BY_ID
        assert worker.pid is not None
        peak = peak_rss_mib(worker.pid)
    assert peak < PEAK_LIMIT_MIB, f"worker peaked at {peak:.0f} MiB"
