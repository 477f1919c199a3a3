"""A rendered card for a reviewer: what a chat user sees, saved as artifacts/card_example.png.

The product sends platform-native cards (a Discord embed, a Telegram photo with an HTML
caption); this test draws the same content, from the real flow, into one PNG so a person
can check the scene, the numbers, the tracks and the picture at a glance.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageDraw

from adapters.render.fonts import load_font
from adapters.storage.anchors_store import build_anchor_table
from adapters.storage.catalog_import import import_catalog
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.service import MoodService
from core.flow import PhotoRequest
from core.reply import PlaylistCard, summary_lines, title
from tests.conftest import REPO, SHARED_DATA, make_photo

ARTIFACT = REPO / "artifacts" / "card_example.png"
REAL_CSV = SHARED_DATA / "spotify_songs.csv"


def draw_card(card: PlaylistCard) -> Image.Image:
    assert card.plane_png is not None
    plane = Image.open(io.BytesIO(card.plane_png)).convert("RGB")
    width, text_width = plane.width, 760
    canvas = Image.new("RGB", (width + text_width, plane.height), (24, 24, 28))
    canvas.paste(plane, (0, 0))
    draw = ImageDraw.Draw(canvas)
    korean = card.language == "ko"
    heading, body = load_font(30, bold=True, korean=korean), load_font(19, korean=korean)
    x, y = width + 24, 28
    draw.text((x, y), title(card), font=heading, fill=(240, 240, 240))
    y += 52
    for line in summary_lines(card):
        draw.text((x, y), line, font=body, fill=(200, 200, 210))
        y += 30
    y += 16
    for number, track in enumerate(card.tracks, start=1):
        label = f"{number:2d}. {track.artist_line} - {track.name}"
        draw.text((x, y), label, font=body, fill=(120, 200, 140))
        draw.text((x + 30, y + 24), track.url, font=load_font(14), fill=(130, 130, 150))
        y += 52
    return canvas


async def test_render_a_card_for_review(real_mood_flow, tiny_analyzer, flow_settings, tmp_path):
    flow = real_mood_flow
    if REAL_CSV.exists():  # real tracks and anchors read better than the synthetic ones
        db = open_database(tmp_path / "real.db")
        import_catalog(db, REAL_CSV)
        build_anchor_table(db)
        flow = MoodService(tiny_analyzer, Storage(db), flow_settings)
    card = await flow.recommend(
        PhotoRequest("telegram", "review", "reviewer", make_photo(), "rainy but happy today!")
    )
    image = draw_card(card)
    ARTIFACT.parent.mkdir(exist_ok=True)
    image.save(ARTIFACT)
    saved = Image.open(ARTIFACT)
    assert saved.size == image.size
    assert Path(ARTIFACT).stat().st_size > 10_000
    assert len(card.tracks) == 10
