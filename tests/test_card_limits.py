"""The fullest single-photo card fits both platforms with all of its explanation shown.

Every feature adds a line: the chat's taste, what the caption moved, a journey the caption
chose (quoting it), where steering took it, category defaults, a scene question. Telegram
allows 1024 visible characters of caption; Discord 4096 of embed description and 6000 over
the embed. Only the track labels may get shorter; no explanation line may be dropped.
"""

from __future__ import annotations

import html

import pytest

from adapters.chat.discord_render import describe, render_card
from adapters.chat.telegram_render import CAPTION_LIMIT, card_caption, visible_length
from core.journey import Journey, JourneySource
from core.language import Language
from core.mood import (
    Analysis,
    AxisReading,
    BaseSource,
    CaptionLabel,
    Destination,
    ImageReading,
    MoodPoint,
    Reading,
    TextReading,
)
from core.paths import path_points
from core.reply import PlaylistCard, scene_question, summary_lines
from core.steering import Action
from core.tracks import Track
from tests.fake_discord import EMBED_LIMITS, EMBED_TOTAL_LIMIT

LONG_CAPTION = {
    Language.EN: "cheer me up after a very long grey week of rain, deadlines and cold coffee",
    Language.KO: "비 오고 마감에 치이고 식은 커피만 마신 아주 긴 한 주였어, 기분 전환하고 싶어",
}


def fullest_card(language: Language) -> PlaylistCard:
    distribution = {"sunny_beach": 0.34, "sunset": 0.33, "rainy_day": 0.33}
    axis = {
        "valence": AxisReading(CaptionLabel.NEGATIVE, -1, 0.99, {"negative": 0.99}),
        "energy": AxisReading(CaptionLabel.ENERGETIC, 1, 0.99, {"energetic": 0.99}),
    }
    reading = Reading(ImageReading("sunny_beach", 0.34, distribution), TextReading(**axis))
    base, final = MoodPoint(0.8, 0.7), MoodPoint(0.3, 1.0)
    analysis = Analysis(
        reading, base, final, ("pop",), BaseSource.DEFAULTS, taste=MoodPoint(-0.1, 0.1)
    )
    target = MoodPoint(0.15, 0.85)  # nudged
    journey = Journey(Destination.LIFT, JourneySource.CAPTION, 0.99, LONG_CAPTION[language])
    long_name = "Ω" * 150 + " <&> " + "한" * 150
    tracks = tuple(Track(f"id{i}", long_name, (long_name, long_name), 0.5, 0.5) for i in range(10))
    return PlaylistCard(
        request_id=10**12,
        language=language,
        analysis=analysis,
        target=target,
        tracks=tracks,
        delta_max=0.5,
        playlist_url="https://open.spotify.com/playlist/" + "x" * 22,
        round=3,
        last_action=Action.CALMER,
        scene_choices=("sunny_beach", "sunset"),
        journey=journey,
        path=tuple(path_points(target, MoodPoint(0.85, 0.9), 10)),
    )


@pytest.mark.parametrize("language", list(Language))
def test_the_fullest_card_fits_telegrams_caption_with_every_line(language: Language) -> None:
    card = fullest_card(language)
    caption = card_caption(card)
    assert visible_length(caption) <= CAPTION_LIMIT
    plain = html.unescape(caption)
    lines = [*summary_lines(card), scene_question(card)]
    assert len(lines) >= 7  # scene, values, taste, caption, journey, nudged, defaults, question
    for line in lines:
        assert line and line in plain, f"dropped: {line}"
    assert caption.count('href="https://open.spotify.com/track/') == 10


@pytest.mark.parametrize("language", list(Language))
def test_the_fullest_card_fits_discords_embed_with_every_line(language: Language) -> None:
    card = fullest_card(language)
    description = describe(card)
    assert len(description) <= EMBED_LIMITS["description"]
    for line in [*summary_lines(card), scene_question(card)]:
        assert line and line in description, f"dropped: {line}"
    assert description.count("](https://open.spotify.com/track/") == 10
    embed = render_card(card).embed
    assert len(embed.title or "") + len(embed.description or "") <= EMBED_TOTAL_LIMIT
