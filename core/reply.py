"""The platform-neutral reply: what a playlist card says, before any platform renders it.

Both chat adapters render the same ``PlaylistCard`` (Discord as an embed, Telegram as an
HTML photo caption); the card's wording lives here, once, in Korean and English. Replies to
errors are worded in ``core.messages``; ``error_text`` picks the one for an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.albums import Album
from core.categories import get_category
from core.errors import AIDJError, CatalogError, ProblemError, RateLimitedError
from core.journey import Journey, JourneySource, destination_emoji
from core.language import Language
from core.messages import ErrorReply, ImageProblem, text_of
from core.mood import Analysis, AxisReading, BaseSource, CaptionLabel, Destination, MoodPoint
from core.steering import Action
from core.tracks import Track
from core.tuning import shift


@dataclass(frozen=True)
class PlaylistCard:
    request_id: int
    language: Language
    analysis: Analysis
    target: MoodPoint  # final point after any nudges; equals analysis.final at first
    tracks: tuple[Track, ...]
    delta_max: float
    playlist_url: str | None = None
    plane_png: bytes | None = None
    round: int = 0  # 0 for the first reply, +1 per regenerate/nudge/scene choice
    last_action: Action | None = None
    # the two scenes the card asks the user to choose between (``core.scene_choice``);
    # empty when the photo was clear or a scene has been chosen
    scene_choices: tuple[str, ...] = ()
    scene_chosen: bool = False  # the scene is the user's pick, not the photo's reading
    journey: Journey | None = None  # the songs move toward a destination (``core.journey``)
    path: tuple[MoodPoint, ...] = ()  # a journey's targets, one per song, from ``target`` on
    # an album's photos (``analysis`` and ``target`` are then its first photo's)
    album: Album | None = None

    @property
    def category_name(self) -> str:
        return get_category(self.analysis.reading.image.category_id).name(self.language)

    @property
    def is_arc(self) -> bool:
        """Whether the playlist follows several photos of an album."""
        return self.album is not None and self.album.is_arc


_TEXT = {
    "title": {Language.EN: "AI DJ · {scene}", Language.KO: "AI DJ · {scene}"},
    "scene": {
        Language.EN: "Scene: {scene} ({confidence:.0%})",
        Language.KO: "장면: {scene} ({confidence:.0%})",
    },
    "scene_chosen": {
        Language.EN: "Scene: {scene} (your pick; the photo read {confidence:.0%})",
        Language.KO: "장면: {scene} (직접 고름, 사진 분석 {confidence:.0%})",
    },
    "scene_question": {
        Language.EN: "{first} or {second}? Pick one to re-base the playlist.",
        Language.KO: (
            "{first}, {second} 중 어느 쪽인가요? 하나를 고르면 플레이리스트를 다시 맞춰요."
        ),
    },
    "values": {
        Language.EN: "Valence {bv:.2f} → {fv:.2f} · Energy {be:.2f} → {fe:.2f}",
        Language.KO: "밝기(valence) {bv:.2f} → {fv:.2f} · 에너지 {be:.2f} → {fe:.2f}",
    },
    "taste": {
        Language.EN: "Tuned to this chat: {moves}",
        Language.KO: "이 채팅 취향 반영: {moves}",
    },
    "caption_moved": {Language.EN: "Caption: {moves}", Language.KO: "캡션: {moves}"},
    "caption_still": {
        Language.EN: "Caption: nothing to move, the photo sets the mood",
        Language.KO: "캡션: 움직일 감정이 없어 사진의 분위기 그대로예요",
    },
    "journey": {
        Language.EN: "Journey {emoji} {name} → valence {v:.2f} · energy {e:.2f}: {why}",
        Language.KO: "여정 {emoji} {name} → 밝기 {v:.2f} · 에너지 {e:.2f}: {why}",
    },
    "journey_caption": {
        Language.EN: "read in your caption “{quote}” ({confidence:.2f})",
        Language.KO: "캡션 “{quote}”에서 읽었어요 ({confidence:.2f})",
    },
    "journey_control": {
        Language.EN: "chosen with the button",
        Language.KO: "버튼으로 골랐어요",
    },
    "journey_command": {
        Language.EN: "you asked for it",
        Language.KO: "직접 요청했어요",
    },
    "nudged": {
        Language.EN: "Steered to valence {v:.2f} · energy {e:.2f}",
        Language.KO: "조정됨: 밝기 {v:.2f} · 에너지 {e:.2f}",
    },
    "defaults": {
        Language.EN: "(base values from category defaults: no anchor table built yet)",
        Language.KO: "(앵커 테이블이 아직 없어 카테고리 기본값을 사용했어요)",
    },
    "playlist": {
        Language.EN: "Open the playlist on Spotify",
        Language.KO: "Spotify에서 플레이리스트 열기",
    },
    "no_tracks": {
        Language.EN: "No tracks left for this mood in the catalog.",
        Language.KO: "이 분위기에 맞는 곡이 카탈로그에 더 없어요.",
    },
    "album_title": {Language.EN: "AI DJ · {count} photos", Language.KO: "AI DJ · 사진 {count}장"},
    "album_values": {
        Language.EN: "Valence {valence} · Energy {energy}",
        Language.KO: "밝기(valence) {valence} · 에너지 {energy}",
    },
    "album_nudged": {
        Language.EN: "Steered to valence {valence} · energy {energy}",
        Language.KO: "조정됨: 밝기 {valence} · 에너지 {energy}",
    },
    "skipped": {Language.EN: "Skipped: {photos}", Language.KO: "건너뛴 사진: {photos}"},
    "skipped_photo": {
        Language.EN: "photo {position} ({problem})",
        Language.KO: "{position}번 ({problem})",
    },
}

# why an album's photo was skipped, short enough for a card line
_SKIP_REASONS: dict[ImageProblem, dict[Language, str]] = {
    ImageProblem.EMPTY: {Language.EN: "empty", Language.KO: "빈 파일"},
    ImageProblem.NOT_AN_IMAGE: {Language.EN: "not an image", Language.KO: "이미지가 아님"},
    ImageProblem.CORRUPT: {Language.EN: "corrupt", Language.KO: "손상됨"},
    ImageProblem.TOO_LARGE: {Language.EN: "too large", Language.KO: "너무 큼"},
    ImageProblem.TOO_MANY_PIXELS: {Language.EN: "too many pixels", Language.KO: "픽셀이 너무 많음"},
}

_LABELS: dict[CaptionLabel, dict[Language, str]] = {
    CaptionLabel.POSITIVE: {Language.EN: "positive", Language.KO: "긍정"},
    CaptionLabel.NEGATIVE: {Language.EN: "negative", Language.KO: "부정"},
    CaptionLabel.ENERGETIC: {Language.EN: "energetic", Language.KO: "활기"},
    CaptionLabel.CALM: {Language.EN: "calm", Language.KO: "차분"},
    CaptionLabel.NEUTRAL: {Language.EN: "neutral", Language.KO: "중립"},
}
_AXIS_NAMES = {
    "valence": {Language.EN: "valence", Language.KO: "밝기"},
    "energy": {Language.EN: "energy", Language.KO: "에너지"},
}


def text(key: str, language: Language, **values: object) -> str:
    """A card string in ``language``."""
    return _TEXT[key][language].format(**values)


def axis_move(
    axis_name: str, axis: AxisReading, delta_max: float, language: Language
) -> str | None:
    """E.g. "positive 0.86 → valence +0.43", or None when the axis is neutral."""
    if axis.direction == 0:
        return None
    moved = shift(axis, delta_max)
    label = _LABELS[axis.label][language]
    return f"{label} {axis.confidence:.2f} → {_AXIS_NAMES[axis_name][language]} {moved:+.2f}"


def scene_lines(card: PlaylistCard) -> list[str]:
    """The scene with its confidence, and base -> final valence and energy."""
    analysis = card.analysis
    return [
        text(
            "scene_chosen" if card.scene_chosen else "scene",
            card.language,
            scene=card.category_name,
            confidence=analysis.reading.image.confidence,
        ),
        text(
            "values",
            card.language,
            bv=analysis.base.valence,
            fv=analysis.final.valence,
            be=analysis.base.energy,
            fe=analysis.final.energy,
        ),
    ]


def taste_line(analysis: Analysis, language: Language) -> str | None:
    """E.g. "Tuned to this chat: energy -0.08", or None when the chat's taste moved nothing."""
    moves = _taste_moves(analysis.taste, language)
    return text("taste", language, moves=moves) if moves else None


def album_taste_line(album: Album, language: Language) -> str | None:
    """The chat's taste over an album's photos (it is per scene): one move when it moved
    every photo alike, else each move with the photos it moved ("energy -0.08 (1, 3)")."""
    photos_by_move: dict[str, list[int]] = {}
    for photo in album.photos:
        if moves := _taste_moves(photo.analysis.taste, language):
            photos_by_move.setdefault(moves, []).append(photo.position)
    if not photos_by_move:
        return None
    if len(photos_by_move) == 1 and len(next(iter(photos_by_move.values()))) == len(album.photos):
        return text("taste", language, moves=next(iter(photos_by_move)))
    moves = "; ".join(
        f"{move} ({', '.join(map(str, positions))})" for move, positions in photos_by_move.items()
    )
    return text("taste", language, moves=moves)


def _taste_moves(taste: MoodPoint, language: Language) -> str:
    return ", ".join(
        f"{_AXIS_NAMES[name][language]} {value:+.2f}"
        for name in ("valence", "energy")
        if (value := getattr(taste, name))
    )


def album_lines(card: PlaylistCard) -> list[str]:
    """An album's photos in order, compactly: "1 Sunset → 2 Night city lights", then each
    photo's tuned valence and energy in the same order."""
    assert card.album is not None
    photos = card.album.photos
    scenes = " → ".join(
        f"{p.position} {get_category(p.analysis.reading.image.category_id).name(card.language)}"
        for p in photos
    )
    return [
        scenes,
        text(
            "album_values",
            card.language,
            valence=_arc([p.analysis.final.valence for p in photos]),
            energy=_arc([p.analysis.final.energy for p in photos]),
        ),
    ]


def _arc(values: list[float]) -> str:
    return " → ".join(f"{value:.2f}" for value in values)


def summary_lines(card: PlaylistCard) -> list[str]:
    """The card's explanation, one line each: scene (an album: its photos' scenes), values,
    the chat's taste, what the caption moved, where steering took it, photos of an album
    that were skipped."""
    analysis = card.analysis
    lang = card.language
    album = card.album
    if album is not None and album.is_arc:
        lines = album_lines(card)
        tuned = album_taste_line(album, lang)
    else:
        lines, tuned = scene_lines(card), taste_line(analysis, lang)
    if tuned:
        lines.append(tuned)
    moves = [
        move
        for name in ("valence", "energy")
        if (move := axis_move(name, getattr(analysis.reading.text, name), card.delta_max, lang))
    ]
    lines.append(
        text("caption_moved", lang, moves=", ".join(moves))
        if moves
        else text("caption_still", lang)
    )
    if card.journey is not None:
        lines.append(journey_line(card.journey, card.path or (card.target,), lang))
    if album is not None and album.is_arc:
        if any(p.target != p.analysis.final for p in album.photos):
            valence = _arc([p.target.valence for p in album.photos])
            energy = _arc([p.target.energy for p in album.photos])
            lines.append(text("album_nudged", lang, valence=valence, energy=energy))
    elif card.target != analysis.final:
        lines.append(text("nudged", lang, v=card.target.valence, e=card.target.energy))
    if album is not None and album.skipped:
        skipped = ", ".join(
            text("skipped_photo", lang, position=s.position, problem=skip_reason(s.problem, lang))
            for s in album.skipped
        )
        lines.append(text("skipped", lang, photos=skipped))
    on_defaults = analysis.base_source == BaseSource.DEFAULTS
    if on_defaults or (album is not None and album.on_defaults):
        lines.append(text("defaults", lang))
    return lines


def scene_question(card: PlaylistCard) -> str | None:
    """The line asking which of the offered scenes the photo shows ("Sunny beach or
    sunset? ..."), or None when the card offers none. Renderers keep it whole: it explains
    the buttons under the card."""
    if len(card.scene_choices) != 2:
        return None
    first, second = (get_category(scene).name(card.language) for scene in card.scene_choices)
    if card.language is Language.EN:
        second = second[:1].lower() + second[1:]
    return text("scene_question", card.language, first=first, second=second)


def title(card: PlaylistCard) -> str:
    if card.album is not None and card.is_arc:
        return text("album_title", card.language, count=len(card.album.photos))
    return text("title", card.language, scene=card.category_name)


def skip_reason(problem: ImageProblem, language: Language) -> str:
    """Why an album's photo was skipped, in a word or two ("not an image" / "이미지가 아님")."""
    return _SKIP_REASONS[problem][language]


_CONTROL_NAMES: dict[Action, dict[Language, str]] = {
    Action.REGENERATE: {Language.EN: "ten new songs", Language.KO: "새로운 열 곡"},
    Action.MORE_ENERGY: {Language.EN: "more energy", Language.KO: "더 신나게"},
    Action.CALMER: {Language.EN: "calmer", Language.KO: "더 차분하게"},
    Action.HAPPIER: {Language.EN: "happier", Language.KO: "더 밝게"},
    Action.SADDER: {Language.EN: "sadder", Language.KO: "더 우울하게"},
}


def control_name(action: Action, language: Language) -> str:
    """What a control does, in words ("more energy" / "더 신나게"), for help texts and buttons."""
    return _CONTROL_NAMES[action][language]


_DESTINATION_NAMES: dict[Destination, dict[Language, str]] = {
    Destination.LIFT: {Language.EN: "lift me up", Language.KO: "기분 끌어올리기"},
    Destination.WIND_DOWN: {Language.EN: "wind down", Language.KO: "차분히 쉬어 가기"},
    Destination.FOCUS: {Language.EN: "focus", Language.KO: "집중하기"},
    Destination.HYPE: {Language.EN: "hype", Language.KO: "텐션 올리기"},
}
# on the card's buttons, where a row of five must fit a phone
_DESTINATION_LABELS: dict[Destination | None, dict[Language, str]] = {
    Destination.LIFT: {Language.EN: "Lift", Language.KO: "기분 업"},
    Destination.WIND_DOWN: {Language.EN: "Wind down", Language.KO: "쉬어 가기"},
    Destination.FOCUS: {Language.EN: "Focus", Language.KO: "집중"},
    Destination.HYPE: {Language.EN: "Hype", Language.KO: "텐션 업"},
    None: {Language.EN: "Stay", Language.KO: "그대로"},  # back to a playlist around one point
}
_QUOTE_CHARS = 40  # of the caption quoted as the reason for a journey


def destination_name(destination: Destination, language: Language) -> str:
    """A destination in words ("lift me up" / "기분 끌어올리기"), for cards and help texts."""
    return _DESTINATION_NAMES[destination][language]


def destination_names(language: Language) -> str:
    """Every destination with its emoji, for help texts: "🌈 lift me up · 🛌 wind down · …"."""
    return " · ".join(
        f"{destination_emoji(d)} {destination_name(d, language)}" for d in Destination
    )


def destination_label(destination: Destination | None, language: Language) -> str:
    """The short word on a journey button (None: the "stay" button)."""
    return _DESTINATION_LABELS[destination][language]


def journey_line(journey: Journey, path: Sequence[MoodPoint], language: Language) -> str:
    """E.g. "Journey 🌈 lift me up → valence 0.85 · energy 0.75: read in your caption
    “cheer me up” (0.82)": where the songs go, and who chose it."""
    if journey.source is JourneySource.CAPTION:
        quote = journey.quote
        if len(quote) > _QUOTE_CHARS:
            quote = quote[: _QUOTE_CHARS - 1].rstrip() + "…"
        why = text("journey_caption", language, quote=quote, confidence=journey.confidence or 0.0)
    else:
        why = text(f"journey_{journey.source.value}", language)
    end = path[-1]
    return text(
        "journey",
        language,
        emoji=destination_emoji(journey.destination),
        name=destination_name(journey.destination, language),
        v=end.valence,
        e=end.energy,
        why=why,
    )


def error_text(error: BaseException, language: Language) -> str:
    """A short, friendly reply for ``error`` in ``language`` (``core.messages``); errors that
    are not ``AIDJError`` get the generic line."""
    if not isinstance(error, AIDJError):
        return text_of(ErrorReply.GENERIC, language)
    return text_of(error.reply, language, **_reply_values(error, language))


def _reply_values(error: AIDJError, language: Language) -> dict[str, object]:
    """What the error's reply text needs: a problem told in ``language``, the seconds to
    wait, or a catalog error's own message (English; the Korean text leaves it out)."""
    if isinstance(error, ProblemError):
        return {"detail": text_of(error.problem, language, **error.values)}
    if isinstance(error, RateLimitedError):
        return {"seconds": max(1, round(error.retry_after))}
    if isinstance(error, CatalogError):
        return {"detail": str(error)}
    return {}
