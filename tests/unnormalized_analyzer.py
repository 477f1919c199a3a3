"""A MoodAnalyzer that passes captions to the NLI tokenizer exactly as received.

Why: the product normalises every caption, so a lone surrogate can no longer reach the
tokenizer. Tests that check the worker survives an item that makes a model call raise
load this subclass in the worker process (``ModelWorker(settings, UnnormalizedAnalyzer.load)``)
so the real tokenizer meets the real poison.
"""

from __future__ import annotations

from adapters.models.analyzer import MoodAnalyzer


class UnnormalizedAnalyzer(MoodAnalyzer):
    def _clean_caption(self, caption: str | None) -> str:
        return caption or ""
