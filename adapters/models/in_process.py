"""The analyzer in the calling process, for one-shot commands (`aidj analyze/recommend`).

A chat bot uses the separate worker process (``adapters.models.worker``); a CLI run that
answers one request and exits would only pay for starting a second interpreter. Both expose
the same ``async analyze(image, caption) -> Reading``.
"""

from __future__ import annotations

import asyncio

from adapters.models.options import ModelOptions
from core.mood import Reading


class InProcessAnalyzer:
    def __init__(self, options: ModelOptions) -> None:
        from adapters.models.analyzer import MoodAnalyzer

        self._analyzer = MoodAnalyzer.load(options)

    async def analyze(self, image: bytes, caption: str) -> Reading:
        """Run the models off the event loop's thread; per-item errors are raised."""
        result = (await asyncio.to_thread(self._analyzer.analyze_batch, [(image, caption)]))[0]
        if isinstance(result, Exception):
            raise result
        return result
