"""Caption text as the models may see it: valid Unicode, composed, one line of words.

Why at the edge: a chat client can send a broken emoji (a lone UTF-16 surrogate) or control
characters; the NLI tokenizer raises on the first and stores garbage for the second. Every
way in (chat flow, CLI) cleans the caption once with ``normalize_caption`` before it reaches
a model or the database, so one bad caption can never fail anyone else's request.
"""

from __future__ import annotations

import unicodedata


def normalize_caption(text: str) -> str:
    """``text`` with invalid code points (lone surrogates) replaced by U+FFFD, control and
    format characters other than emoji joiners dropped, NFC applied and white space folded."""
    # via UTF-16: a split surrogate pair joins into its emoji, a lone half becomes U+FFFD
    valid = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    kept = "".join(char for char in valid if _keep(char))
    return " ".join(unicodedata.normalize("NFC", kept).split())


def _keep(char: str) -> bool:
    if char.isspace():
        return True
    category = unicodedata.category(char)
    if category == "Cc":
        return False
    # Cf holds the zero-width joiner and variation selectors that build emoji; keep those
    return category != "Cf" or char in "\u200d\ufe0e\ufe0f"
