"""Reading the numbers back out of a rendered card, for the chat suites.

The patterns come from ``core.reply.text`` itself, so the tests follow the wording instead
of copying it.
"""

from __future__ import annotations

import re

from core.reply import text


def _numbers(key: str, source: str, **sentinels: float) -> dict[str, float]:
    """The numbers in the line ``core.reply.text(key, "en", ...)`` renders, found in
    ``source``."""
    pattern = re.escape(text(key, "en", **sentinels))
    for name, value in sentinels.items():
        pattern = pattern.replace(re.escape(f"{value:.2f}"), rf"(?P<{name}>-?\d+\.\d+)", 1)
    match = re.search(pattern, source)
    assert match, f"no {key!r} line in {source!r}"
    return {name: float(match[name]) for name in sentinels}


def final_energy(rendered: str) -> float:
    return _numbers("values", rendered, bv=0.11, fv=0.22, be=0.33, fe=0.44)["fe"]


def steered_energy(rendered: str) -> float:
    return _numbers("nudged", rendered, v=0.55, e=0.66)["e"]
