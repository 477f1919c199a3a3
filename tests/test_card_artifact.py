"""The card a Telegram user gets, saved for a reviewer under ``artifacts/`` (git-ignored).

``card_example.png`` is the picture exactly as the bot sends it and ``card_example.html``
shows it with the caption exactly as sent (Telegram's HTML, which a browser shows much as
Telegram does). Only the product draws (``render_mood_plane`` via the flow, ``card_caption``),
so what a reviewer looks at cannot drift from what users see.
"""

from __future__ import annotations

import io
import re

from PIL import Image

from adapters.chat.telegram_render import CAPTION_LIMIT, card_caption, visible_length
from adapters.render.mood_plane import SIZE
from adapters.storage.anchors_store import build_anchor_table
from adapters.storage.catalog_import import import_catalog
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.service import MoodService
from core.flow import PhotoRequest
from tests.conftest import REPO, SHARED_DATA, make_photo

ARTIFACTS = REPO / "artifacts"
REAL_CSV = SHARED_DATA / "spotify_songs.csv"
TRACK_LINK = re.compile(r'<a href="https://open\.spotify\.com/track/[A-Za-z0-9]+">')


def review_page(caption_html: str, picture_name: str) -> str:
    """The picture above the caption, line breaks kept, as a chat client shows a photo."""
    return (
        '<!doctype html><meta charset="utf-8"><title>AI DJ card</title>'
        f'<div style="max-width:480px;font-family:sans-serif">'
        f'<img src="{picture_name}" style="width:100%">'
        f'<div style="white-space:pre-wrap">{caption_html}</div></div>\n'
    )


async def test_render_a_card_for_review(tiny_analyzer, own_settings, tmp_path):
    if REAL_CSV.exists():  # real tracks and anchors read better than the synthetic ones
        db = open_database(tmp_path / "real.db")
        import_catalog(db, REAL_CSV)
        build_anchor_table(db)
    else:
        db = open_database(own_settings.db_path)
    try:
        card = await MoodService(tiny_analyzer, Storage(db), own_settings).recommend(
            PhotoRequest("telegram", "review", "reviewer", make_photo(), "rainy but happy today!")
        )
    finally:
        db.close()
    assert card.plane_png is not None
    caption = card_caption(card)

    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "card_example.png").write_bytes(card.plane_png)
    (ARTIFACTS / "card_example.html").write_text(review_page(caption, "card_example.png"))

    picture = Image.open(io.BytesIO((ARTIFACTS / "card_example.png").read_bytes()))
    assert (picture.format, picture.size) == ("PNG", (SIZE, SIZE))
    assert caption in (ARTIFACTS / "card_example.html").read_text()
    assert len(TRACK_LINK.findall(caption)) == len(card.tracks) == 10
    assert visible_length(caption) <= CAPTION_LIMIT
