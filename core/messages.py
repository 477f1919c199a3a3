"""Every short text the bot says outside a card, by code, in Korean and English.

Why one catalogue keyed by enums: an error or hint names what happened (a code and its
values), and the text is chosen here in the reader's language, so no adapter or model module
writes user-facing English that would end up inside a Korean reply, and a new code without
both texts fails a test (tests/test_messages.py). Values are language-neutral (numbers,
sizes); exception messages (logs, the CLI) are the English texts.

Card wording stays in ``core.reply`` and help texts in the render modules (they are layout).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum

from core.language import Language

_KB = 1024
_MB = 1024 * 1024


class ErrorReply(Enum):
    """What a chat reply to a failed request says, one per kind of error
    (``core.errors.AIDJError.reply``)."""

    IMAGE = "image"  # {detail}: the ImageProblem's text
    CAPTION = "caption"  # {detail}: the CaptionProblem's text
    RATE_LIMITED = "rate_limited"  # {seconds}
    NOT_REQUESTER = "not_requester"
    NOT_IN_CHAT = "not_in_chat"  # a vote on a card from outside the chat it was made in
    UNKNOWN_REQUEST = "unknown_request"
    SCENE_NOT_OFFERED = "scene_not_offered"
    NOT_FOR_ALBUMS = "not_for_albums"
    CATALOG = "catalog"  # {detail}: the catalog error's own (English) message
    DATABASE_BUSY = "database_busy"
    WORKER = "worker"
    GENERIC = "generic"  # anything else: no details, which might carry internals


class ImageProblem(Enum):
    """Why an upload is not a usable photo (``core.errors.BadImageError``)."""

    EMPTY = "empty"
    NOT_AN_IMAGE = "not_an_image"
    CORRUPT = "corrupt"
    TOO_LARGE = "too_large"  # {limit}: a ``file_size``
    TOO_MANY_PIXELS = "too_many_pixels"  # {size}: " (WxH)" or ""; {megapixels}


class CaptionProblem(Enum):
    """Why a caption cannot be read (``core.errors.BadCaptionError``)."""

    TOO_LONG = "too_long"  # {length}, {limit}: characters


class Hint(Enum):
    """What to do instead, for a message the bot cannot answer with a playlist."""

    MOOD_NEEDS_PHOTO = "mood_needs_photo"
    UNKNOWN_COMMAND = "unknown_command"
    TEXT_ONLY = "text_only"


class FitNotice(Enum):
    """The popup after a 👍 / 👎 press ("did it fit?"); {vote} is the emoji."""

    NOTED = "noted"
    CHANGED = "changed"
    WITHDRAWN = "withdrawn"  # the same button pressed again


class StatsText(Enum):
    """The lines of ``/stats`` (``core.fit_text``)."""

    NOTHING_YET = "nothing_yet"
    HEADER = "header"  # {cards}
    FIT = "fit"  # {up}, {down}, {rate}, {low}, {high}: counts and percentages
    NO_VOTES = "no_votes"
    TOO_FEW = "too_few"  # {min}
    SCENES = "scenes"
    SCENE = "scene"  # {scene}: its name; {cards}; {fit}: SCENE_FIT or SCENE_NO_VOTES
    SCENE_FIT = "scene_fit"  # {up}, {down}, {rate}
    SCENE_NO_VOTES = "scene_no_votes"
    NUDGES = "nudges"  # {nudges}: "🌙 calmer ×3 · 🔁 ten new songs ×2"
    NO_NUDGES = "no_nudges"


class PrefsReply(Enum):
    """What ``/prefs`` answers (``bot.prefs``); the value texts fill ``SUMMARY``."""

    SUMMARY = "summary"  # {chosen}, {artists}, {explicit}: the value texts below, names
    LANGUAGE_AUTO = "language_auto"  # the value texts: from here to EXPLICIT_LEFT_OUT
    LANGUAGE_KO = "language_ko"
    LANGUAGE_EN = "language_en"
    NO_ARTISTS = "no_artists"
    EXPLICIT_ALLOWED = "explicit_allowed"
    EXPLICIT_LEFT_OUT = "explicit_left_out"
    LANGUAGE_SET = "language_set"  # {chosen}: LANGUAGE_KO or LANGUAGE_EN's text
    LANGUAGE_SET_AUTO = "language_set_auto"
    SKIPPED = "skipped"  # {artist}
    SKIP_TOO_LONG = "skip_too_long"  # {limit}: characters
    SKIP_FULL = "skip_full"  # {limit}: artists
    UNSKIPPED = "unskipped"  # {artist}
    NOT_SKIPPED = "not_skipped"  # {artist}
    EXPLICIT_OFF = "explicit_off"
    EXPLICIT_ON = "explicit_on"
    RESET = "reset"
    RESET_WITH_TASTE = "reset_with_taste"
    RESET_TASTE_KEPT = "reset_taste_kept"
    USAGE = "usage"


Code = ErrorReply | ImageProblem | CaptionProblem | Hint | FitNotice | StatsText | PrefsReply
CODES: tuple[type[Enum], ...] = (
    ErrorReply,
    ImageProblem,
    CaptionProblem,
    Hint,
    FitNotice,
    StatsText,
    PrefsReply,
)

_CATALOGUE: dict[Code, Mapping[Language, str]] = {
    # ---- replies to errors
    ErrorReply.IMAGE: {
        Language.EN: "I couldn't use that image: {detail}",
        Language.KO: "이미지를 사용할 수 없어요: {detail}",
    },
    ErrorReply.CAPTION: {
        Language.EN: "About the caption: {detail}",
        Language.KO: "캡션 문제: {detail}",
    },
    ErrorReply.RATE_LIMITED: {
        Language.EN: "Easy there! Try again in {seconds} s.",
        Language.KO: "조금만 천천히요! {seconds}초 뒤에 다시 시도해 주세요.",
    },
    ErrorReply.NOT_REQUESTER: {
        Language.EN: "Only the person who asked for this playlist can steer it.",
        Language.KO: "이 플레이리스트는 요청한 사람만 조정할 수 있어요.",
    },
    ErrorReply.NOT_IN_CHAT: {
        Language.EN: "Only people in the chat this playlist was made in can rate it.",
        Language.KO: "이 플레이리스트가 만들어진 대화방의 사람만 평가할 수 있어요.",
    },
    ErrorReply.UNKNOWN_REQUEST: {
        Language.EN: "I don't remember that playlist any more; send the photo again.",
        Language.KO: "그 플레이리스트를 찾을 수 없어요. 사진을 다시 보내 주세요.",
    },
    ErrorReply.NOT_FOR_ALBUMS: {
        Language.EN: "An album's playlist follows its photos, so it takes no journey.",
        Language.KO: "앨범 플레이리스트는 사진 순서를 따라가서 여정을 고를 수 없어요.",
    },
    ErrorReply.SCENE_NOT_OFFERED: {
        Language.EN: "That scene is not one this playlist offers any more.",
        Language.KO: "이 플레이리스트에서 더는 고를 수 없는 장면이에요.",
    },
    ErrorReply.CATALOG: {  # the detail is English (storage errors carry no code): not in Korean
        Language.EN: "My music catalog can't answer right now: {detail}",
        Language.KO: "음악 카탈로그에 문제가 있어요. 잠시 후 다시 시도해 주세요.",
    },
    ErrorReply.DATABASE_BUSY: {
        Language.EN: "My music database is busy updating; please try again in a moment.",
        Language.KO: "음악 데이터베이스를 업데이트하는 중이에요. 잠시 후 다시 시도해 주세요.",
    },
    ErrorReply.WORKER: {
        Language.EN: "The mood reader is busy or restarting; please try again in a moment.",
        Language.KO: "분위기 분석기가 바쁘거나 재시작 중이에요. 잠시 후 다시 시도해 주세요.",
    },
    ErrorReply.GENERIC: {
        Language.EN: "Something went wrong on my side; please try again.",
        Language.KO: "문제가 생겼어요. 다시 시도해 주세요.",
    },
    # ---- image problems
    ImageProblem.EMPTY: {
        Language.EN: "The photo is empty (0 bytes). Please send it again.",
        Language.KO: "사진이 비어 있어요 (0바이트). 다시 보내 주세요.",
    },
    ImageProblem.NOT_AN_IMAGE: {
        Language.EN: (
            "That file is not an image I can read. Please send a photo (JPEG, PNG, WebP or GIF)."
        ),
        Language.KO: "읽을 수 있는 이미지가 아니에요. 사진(JPEG, PNG, WebP, GIF)을 보내 주세요.",
    },
    ImageProblem.CORRUPT: {
        Language.EN: (
            "The photo looks corrupt or incomplete (maybe cut off during upload). "
            "Please send it again."
        ),
        Language.KO: (
            "사진이 손상되었거나 일부만 올라온 것 같아요 (업로드 중에 끊겼을 수도 있어요). "
            "다시 보내 주세요."
        ),
    },
    ImageProblem.TOO_LARGE: {
        Language.EN: "The photo is too large; the limit is {limit}. Please send a smaller one.",
        Language.KO: (
            "사진이 너무 커요. 최대 {limit}까지 보낼 수 있어요. 더 작은 사진을 보내 주세요."
        ),
    },
    ImageProblem.TOO_MANY_PIXELS: {
        Language.EN: (
            "The photo has too many pixels{size}; the limit is {megapixels} megapixels. "
            "Please send a smaller one."
        ),
        Language.KO: (
            "사진의 픽셀이 너무 많아요{size}. 최대 {megapixels}메가픽셀까지예요. "
            "더 작은 사진을 보내 주세요."
        ),
    },
    # ---- caption problems
    CaptionProblem.TOO_LONG: {
        Language.EN: (
            "The caption is too long ({length} characters); the limit is {limit}. "
            "Please shorten it."
        ),
        Language.KO: "캡션이 너무 길어요 ({length}자). 최대 {limit}자까지예요. 줄여서 보내 주세요.",
    },
    # ---- hints
    Hint.MOOD_NEEDS_PHOTO: {
        Language.EN: "Send /mood together with a photo, or as a reply to a photo.",
        Language.KO: "/mood는 사진과 함께 보내거나, 사진에 답장으로 보내 주세요.",
    },
    Hint.UNKNOWN_COMMAND: {
        Language.EN: "I don't know that command. Send /help to see what I can do.",
        Language.KO: "모르는 명령이에요. /help로 사용법을 확인해 주세요.",
    },
    Hint.TEXT_ONLY: {
        Language.EN: (
            "Send me a photo (a caption is optional) and I'll pick ten songs for it. /help"
        ),
        Language.KO: "사진을 보내 주시면 (캡션은 선택) 어울리는 노래 열 곡을 골라 드려요. /help",
    },
    # ---- "did it fit?"
    FitNotice.NOTED: {
        Language.EN: "Thanks, noted {vote}",
        Language.KO: "고마워요, {vote} 기록했어요",
    },
    FitNotice.CHANGED: {
        Language.EN: "Changed your vote to {vote}",
        Language.KO: "평가를 {vote}(으)로 바꿨어요",
    },
    FitNotice.WITHDRAWN: {
        Language.EN: "Your {vote} is taken back",
        Language.KO: "{vote} 평가를 취소했어요",
    },
    # ---- /stats
    StatsText.NOTHING_YET: {
        Language.EN: "No playlists in this chat yet. Send me a photo to start!",
        Language.KO: "이 대화방에는 아직 플레이리스트가 없어요. 사진을 보내 시작해 보세요!",
    },
    StatsText.HEADER: {
        Language.EN: "📊 AI DJ in this chat: {cards} playlists",
        Language.KO: "📊 이 대화방의 AI DJ: 플레이리스트 {cards}개",
    },
    StatsText.FIT: {
        Language.EN: "Did it fit? 👍 {up} · 👎 {down}: {rate} fit (95% range {low}–{high})",
        Language.KO: "잘 맞았나요? 👍 {up} · 👎 {down}: 적중률 {rate} (95% 범위 {low}–{high})",
    },
    StatsText.NO_VOTES: {
        Language.EN: "Did it fit? No votes yet: press 👍 or 👎 under a playlist.",
        Language.KO: "잘 맞았나요? 아직 평가가 없어요. 플레이리스트 아래 👍 또는 👎를 눌러 주세요.",
    },
    StatsText.TOO_FEW: {
        Language.EN: "(fewer than {min} votes: too few to trust the rate yet)",
        Language.KO: "(평가가 {min}개 미만이라 아직 적중률을 믿기 어려워요)",
    },
    StatsText.SCENES: {
        Language.EN: "By scene:",
        Language.KO: "장면별:",
    },
    StatsText.SCENE: {
        Language.EN: "• {scene}: {cards} playlists, {fit}",
        Language.KO: "• {scene}: 플레이리스트 {cards}개, {fit}",
    },
    StatsText.SCENE_FIT: {
        Language.EN: "👍 {up} 👎 {down} ({rate} fit)",
        Language.KO: "👍 {up} 👎 {down} (적중률 {rate})",
    },
    StatsText.SCENE_NO_VOTES: {
        Language.EN: "no votes",
        Language.KO: "평가 없음",
    },
    StatsText.NUDGES: {
        Language.EN: "Most pressed: {nudges}",
        Language.KO: "가장 많이 누른 조정: {nudges}",
    },
    StatsText.NO_NUDGES: {
        Language.EN: "No controls pressed yet.",
        Language.KO: "아직 누른 조정 버튼이 없어요.",
    },
    # ---- /prefs
    PrefsReply.SUMMARY: {
        Language.EN: (
            "Your settings:\n"
            "• reply language: {chosen}\n"
            "• artists left out: {artists}\n"
            "• explicit tracks: {explicit}\n"
            "Change them with /prefs language, /prefs skip, /prefs unskip, /prefs explicit "
            "or /prefs reset."
        ),
        Language.KO: (
            "내 설정:\n"
            "• 답장 언어: {chosen}\n"
            "• 제외한 아티스트: {artists}\n"
            "• 성인용(explicit) 곡: {explicit}\n"
            "/prefs language, /prefs skip, /prefs unskip, /prefs explicit, /prefs reset으로 "
            "바꿀 수 있어요."
        ),
    },
    PrefsReply.LANGUAGE_AUTO: {
        Language.EN: "automatic (your app's language, else the caption's)",
        Language.KO: "자동 (앱 언어, 없으면 캡션 언어)",
    },
    PrefsReply.LANGUAGE_KO: {Language.EN: "Korean", Language.KO: "한국어"},
    PrefsReply.LANGUAGE_EN: {Language.EN: "English", Language.KO: "영어"},
    PrefsReply.NO_ARTISTS: {Language.EN: "none", Language.KO: "없음"},
    PrefsReply.EXPLICIT_ALLOWED: {Language.EN: "allowed", Language.KO: "허용"},
    PrefsReply.EXPLICIT_LEFT_OUT: {
        Language.EN: "left out (where the catalog marks them)",
        Language.KO: "제외 (카탈로그에 표시된 곡)",
    },
    PrefsReply.LANGUAGE_SET: {
        Language.EN: "Done: I'll answer you in {chosen}.",
        Language.KO: "좋아요, 이제 {chosen}로 답할게요.",
    },
    PrefsReply.LANGUAGE_SET_AUTO: {
        Language.EN: "Done: I'll answer in your app's language (else the caption's).",
        Language.KO: "좋아요, 앱 언어(없으면 캡션 언어)로 답할게요.",
    },
    PrefsReply.SKIPPED: {
        Language.EN: "Done: no more songs by {artist} in your playlists.",
        Language.KO: "좋아요, 이제 플레이리스트에 {artist}의 곡은 넣지 않을게요.",
    },
    PrefsReply.SKIP_TOO_LONG: {
        Language.EN: "That name is too long (at most {limit} characters).",
        Language.KO: "이름이 너무 길어요 (최대 {limit}자).",
    },
    PrefsReply.SKIP_FULL: {
        Language.EN: (
            "You already leave out {limit} artists, the most I keep; "
            "take one off with /prefs unskip first."
        ),
        Language.KO: (
            "이미 최대 {limit}명의 아티스트를 제외하고 있어요. "
            "먼저 /prefs unskip으로 한 명을 빼 주세요."
        ),
    },
    PrefsReply.UNSKIPPED: {
        Language.EN: "Done: {artist} can be in your playlists again.",
        Language.KO: "좋아요, {artist}의 곡도 다시 넣을게요.",
    },
    PrefsReply.NOT_SKIPPED: {
        Language.EN: "{artist} is not on your list (/prefs shows it).",
        Language.KO: "{artist}은(는) 제외 목록에 없어요 (/prefs로 확인할 수 있어요).",
    },
    PrefsReply.EXPLICIT_OFF: {
        Language.EN: "Done: no explicit tracks in your playlists (where the catalog marks them).",
        Language.KO: (
            "좋아요, 플레이리스트에 성인용(explicit) 곡은 넣지 않을게요 (카탈로그에 표시된 곡)."
        ),
    },
    PrefsReply.EXPLICIT_ON: {
        Language.EN: "Done: explicit tracks may be in your playlists again.",
        Language.KO: "좋아요, 성인용(explicit) 곡도 다시 넣을게요.",
    },
    PrefsReply.RESET: {
        Language.EN: "Your settings are back to the defaults.",
        Language.KO: "내 설정을 기본값으로 되돌렸어요.",
    },
    PrefsReply.RESET_WITH_TASTE: {
        Language.EN: (
            "Your settings are back to the defaults, and this chat's taste is forgotten: "
            "its cards start from the scenes' own moods again."
        ),
        Language.KO: (
            "내 설정을 기본값으로 되돌리고 이 채팅의 취향도 지웠어요. "
            "이제 장면 본래의 분위기에서 시작해요."
        ),
    },
    PrefsReply.RESET_TASTE_KEPT: {
        Language.EN: (
            "Your settings are back to the defaults. This chat's taste stays: only a chat "
            "admin can reset it."
        ),
        Language.KO: (
            "내 설정을 기본값으로 되돌렸어요. 이 채팅의 취향은 관리자만 지울 수 있어서 그대로예요."
        ),
    },
    PrefsReply.USAGE: {
        Language.EN: (
            "How to use /prefs:\n"
            "/prefs: show your settings\n"
            "/prefs language ko|en|auto: the language I answer you in\n"
            "/prefs skip ARTIST: leave an artist out of your playlists\n"
            "/prefs unskip ARTIST: bring them back\n"
            "/prefs explicit off|on: leave out explicit tracks, or allow them\n"
            "/prefs reset: back to the defaults (a chat admin, or anyone in a private chat, "
            "also resets the chat's taste)"
        ),
        Language.KO: (
            "/prefs 사용법:\n"
            "/prefs: 내 설정 보기\n"
            "/prefs language ko|en|auto: 답장 언어 (한국어, 영어, 자동)\n"
            "/prefs skip 아티스트: 이 아티스트의 곡은 빼기\n"
            "/prefs unskip 아티스트: 다시 넣기\n"
            "/prefs explicit off|on: 성인용(explicit) 곡 빼기 또는 허용\n"
            "/prefs reset: 기본값으로 되돌리기 (그룹 관리자나 개인 채팅에서는 채팅 취향도 "
            "지워요)"
        ),
    },
}


def template(code: Code, language: Language) -> str:
    """The text of ``code`` in ``language``, its values still to fill in."""
    return _CATALOGUE[code][language]


def text_of(code: Code, language: Language, **values: object) -> str:
    """The text of ``code`` in ``language`` with ``values`` filled in."""
    return template(code, language).format(**values)


def file_size(size: int) -> str:
    """A byte count as people read it, the same in both languages: ``10485760`` -> "10 MB",
    ``12345678`` -> "11.8 MB", ``300000`` -> "292 KB", ``100`` -> "100 B"."""
    if size >= _MB:
        return f"{size / _MB:.1f}".removesuffix(".0") + " MB"
    if size >= _KB:
        return f"{size // _KB} KB"
    return f"{size} B"
