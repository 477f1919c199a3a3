"""The platform-neutral reply: what a playlist card says, before any platform renders it.

Both chat adapters render the same ``PlaylistCard`` (Discord as an embed, Telegram as an
HTML photo caption); the wording lives here, once, in Korean and English.
"""

from __future__ import annotations

from dataclasses import dataclass

from core.categories import get_category
from core.mood import Analysis, AxisReading, MoodPoint
from core.steering import Action
from core.tracks import Track
from core.tuning import shift


@dataclass(frozen=True)
class PlaylistCard:
    request_id: int
    language: str  # "ko" or "en"
    analysis: Analysis
    target: MoodPoint  # final point after any nudges; equals analysis.final at first
    tracks: tuple[Track, ...]
    delta_max: float
    playlist_url: str | None = None
    plane_png: bytes | None = None
    round: int = 0  # 0 for the first reply, +1 per regenerate/nudge
    last_action: Action | None = None

    @property
    def category_name(self) -> str:
        return get_category(self.analysis.reading.image.category_id).name(self.language)


_TEXT = {
    "title": {"en": "AI DJ · {scene}", "ko": "AI DJ · {scene}"},
    "scene": {"en": "Scene: {scene} ({confidence:.0%})", "ko": "장면: {scene} ({confidence:.0%})"},
    "values": {
        "en": "Valence {bv:.2f} → {fv:.2f} · Energy {be:.2f} → {fe:.2f}",
        "ko": "밝기(valence) {bv:.2f} → {fv:.2f} · 에너지 {be:.2f} → {fe:.2f}",
    },
    "caption_moved": {"en": "Caption: {moves}", "ko": "캡션: {moves}"},
    "caption_still": {
        "en": "Caption: nothing to move, the photo sets the mood",
        "ko": "캡션: 움직일 감정이 없어 사진의 분위기 그대로예요",
    },
    "nudged": {
        "en": "Steered to valence {v:.2f} · energy {e:.2f}",
        "ko": "조정됨: 밝기 {v:.2f} · 에너지 {e:.2f}",
    },
    "defaults": {
        "en": "(base values from category defaults: no anchor table built yet)",
        "ko": "(앵커 테이블이 아직 없어 카테고리 기본값을 사용했어요)",
    },
    "playlist": {"en": "Open the playlist on Spotify", "ko": "Spotify에서 플레이리스트 열기"},
    "no_tracks": {
        "en": "No tracks left for this mood in the catalog.",
        "ko": "이 분위기에 맞는 곡이 카탈로그에 더 없어요.",
    },
}

_LABELS = {
    "positive": {"en": "positive", "ko": "긍정"},
    "negative": {"en": "negative", "ko": "부정"},
    "energetic": {"en": "energetic", "ko": "활기"},
    "calm": {"en": "calm", "ko": "차분"},
    "neutral": {"en": "neutral", "ko": "중립"},
}
_AXIS_NAMES = {
    "valence": {"en": "valence", "ko": "밝기"},
    "energy": {"en": "energy", "ko": "에너지"},
}


def text(key: str, language: str, **values: object) -> str:
    """A reply string in ``language`` (English for anything but "ko")."""
    template = _TEXT[key]["ko" if language == "ko" else "en"]
    return template.format(**values)


def axis_move(axis_name: str, axis: AxisReading, delta_max: float, language: str) -> str | None:
    """E.g. "positive 0.86 → valence +0.43", or None when the axis is neutral."""
    if axis.direction == 0:
        return None
    lang = "ko" if language == "ko" else "en"
    moved = shift(axis, delta_max)
    label = _LABELS.get(axis.label, {}).get(lang, axis.label)
    return f"{label} {axis.confidence:.2f} → {_AXIS_NAMES[axis_name][lang]} {moved:+.2f}"


def scene_lines(card: PlaylistCard) -> list[str]:
    """The scene with its confidence, and base -> final valence and energy."""
    analysis = card.analysis
    return [
        text(
            "scene",
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


def summary_lines(card: PlaylistCard) -> list[str]:
    """The card's explanation, one line each: scene, values, what the caption moved."""
    analysis = card.analysis
    lang = card.language
    lines = scene_lines(card)
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
    if card.target != analysis.final:
        lines.append(text("nudged", lang, v=card.target.valence, e=card.target.energy))
    if analysis.base_source == "defaults":
        lines.append(text("defaults", lang))
    return lines


def title(card: PlaylistCard) -> str:
    return text("title", card.language, scene=card.category_name)


_CONTROL_NAMES: dict[Action, dict[str, str]] = {
    Action.REGENERATE: {"en": "ten new songs", "ko": "새로운 열 곡"},
    Action.MORE_ENERGY: {"en": "more energy", "ko": "더 신나게"},
    Action.CALMER: {"en": "calmer", "ko": "더 차분하게"},
    Action.HAPPIER: {"en": "happier", "ko": "더 밝게"},
    Action.SADDER: {"en": "sadder", "ko": "더 우울하게"},
}


def control_name(action: Action, language: str) -> str:
    """What a control does, in words ("more energy" / "더 신나게"), for help texts and buttons."""
    return _CONTROL_NAMES[action]["ko" if language == "ko" else "en"]


_ERRORS = {
    "BadImageError": {
        "en": "I couldn't use that image: {detail}",
        "ko": "이미지를 사용할 수 없어요: {detail}",
    },
    "BadCaptionError": {"en": "About the caption: {detail}", "ko": "캡션 문제: {detail}"},
    "RateLimitedError": {
        "en": "Easy there! Try again in {seconds} s.",
        "ko": "조금만 천천히요! {seconds}초 뒤에 다시 시도해 주세요.",
    },
    "NotRequesterError": {
        "en": "Only the person who asked for this playlist can steer it.",
        "ko": "이 플레이리스트는 요청한 사람만 조정할 수 있어요.",
    },
    "UnknownRequestError": {
        "en": "I don't remember that playlist any more; send the photo again.",
        "ko": "그 플레이리스트를 찾을 수 없어요. 사진을 다시 보내 주세요.",
    },
    "CatalogError": {
        "en": "My music catalog can't answer right now: {detail}",
        "ko": "음악 카탈로그에 문제가 있어요: {detail}",
    },
    "DatabaseBusyError": {
        "en": "My music database is busy updating; please try again in a moment.",
        "ko": "음악 데이터베이스를 업데이트하는 중이에요. 잠시 후 다시 시도해 주세요.",
    },
    "WorkerError": {
        "en": "The mood reader is busy or restarting; please try again in a moment.",
        "ko": "분위기 분석기가 바쁘거나 재시작 중이에요. 잠시 후 다시 시도해 주세요.",
    },
}
_GENERIC_ERROR = {
    "en": "Something went wrong on my side; please try again.",
    "ko": "문제가 생겼어요. 다시 시도해 주세요.",
}


def error_text(error: Exception, language: str) -> str:
    """A short, friendly reply for ``error``; unknown errors get a generic line (no details,
    which might carry internals)."""
    lang = "ko" if language == "ko" else "en"
    for cls in type(error).__mro__:
        if cls.__name__ in _ERRORS:
            seconds = max(1, round(getattr(error, "retry_after", 0)))
            return _ERRORS[cls.__name__][lang].format(detail=str(error), seconds=seconds)
    return _GENERIC_ERROR[lang]
