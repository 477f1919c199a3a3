"""How a ``PlaylistCard`` looks on Telegram: a photo (the mood plane) with an HTML caption and
its controls as inline buttons, plus the help text and the command menu (hints and upload
problems are in ``core.messages``).

Card wording comes from ``core.reply`` (shared with Discord); this module only lays it out.

Caption length: Telegram allows 1024 characters of *visible* caption text (links and tags
do not count). Rather than splitting a card over two messages (which would make every later
edit touch two messages and leave reactions on the second one unmatched), an over-long
caption is trimmed: track labels are shortened step by step, then trailing explanation lines
are dropped. The ten links always survive; only their visible text gets shorter. The line
asking which scene the photo shows (when the card offers two) is never dropped.
"""

from __future__ import annotations

import html
import re

from telegram import BotCommand, InlineKeyboardButton, InlineKeyboardMarkup

from core.controls import card_controls
from core.language import Language
from core.reply import (
    PlaylistCard,
    control_name,
    destination_names,
    scene_question,
    summary_lines,
    text,
    title,
)
from core.steering import Action
from core.tracks import Track

CAPTION_LIMIT = 1024  # visible characters (UTF-16 code units) after entity parsing
MESSAGE_LIMIT = 4096
PLANE_FILENAME = "mood.png"
_LABEL_BUDGETS = (80, 60, 48, 40, 32, 26, 20, 16, 12)
_TAG = re.compile(r"<[^>]+>")

# Telegram only allows reactions from a fixed emoji set, which lacks most control emojis
# (⚡ is in it; 🔁 🌙 ☀️ 🌧 are not), so common reactions stand in for them too. 👍 and 👎
# are votes ("did it fit?", ``core.fit``), never steering.
_REACTION_ALIASES: dict[str, Action] = {
    "⚡": Action.MORE_ENERGY,  # a control emoji that is also a Telegram reaction
    "🤔": Action.REGENERATE,
    "🔥": Action.MORE_ENERGY,
    "😴": Action.CALMER,
    "🌚": Action.CALMER,
    "😁": Action.HAPPIER,
    "🤩": Action.HAPPIER,
    "😢": Action.SADDER,
    "😭": Action.SADDER,
}


_HELP = {
    Language.EN: (
        "<b>AI DJ</b> turns a photo and a few words into ten songs that fit the moment.\n"
        "• Send me a photo, with a caption if you like (the caption is optional: it nudges "
        "the mood brighter, darker, calmer or livelier).\n"
        "• In a group, mention me in the caption, reply to one of my messages, or send "
        "/mood with the photo (or as a reply to a photo).\n"
        "• Send an album (up to 10 photos) for one playlist that follows them in order.\n"
        "• Steer the playlist with the buttons under it: {controls}\n"
        "• Reactions work too: {reactions}\n"
        "• Make it a journey that starts at the photo's mood and moves toward {journeys}: "
        "the last row of buttons, or /mood lift (wind down, focus, hype) with the photo.\n"
        "• When the photo could be either of two scenes, the card asks: pick one.\n"
        "• Did it fit? Press 👍 or 👎 under a playlist (or react with them); anyone in the "
        "chat can. /stats shows how well the playlists fit here.\n"
        "• /prefs: your settings (reply language, artists to leave out, explicit tracks).\n"
        "Only the person who asked (or a group admin) can steer a playlist."
    ),
    Language.KO: (
        "<b>AI DJ</b>는 사진과 짧은 글로 지금 분위기에 맞는 노래 열 곡을 골라 줘요.\n"
        "• 사진을 보내 주세요. 캡션은 선택이에요. 분위기를 밝게, 어둡게, 차분하게, 신나게 "
        "조금 움직여요.\n"
        "• 그룹에서는 캡션에서 저를 멘션하거나, 제 메시지에 답장하거나, 사진과 함께 "
        "/mood를 보내 주세요 (사진에 답장으로 /mood를 보내도 돼요).\n"
        "• 사진을 여러 장(최대 10장) 묶어 보내면 사진 순서를 따라가는 플레이리스트 하나를 "
        "만들어요.\n"
        "• 플레이리스트 아래 버튼으로 조정해요: {controls}\n"
        "• 반응으로도 돼요: {reactions}\n"
        "• 여정으로 만들 수도 있어요. 사진의 분위기에서 시작해 {journeys} 쪽으로 곡이 "
        "흘러가요: 맨 아래 줄 버튼, 또는 사진과 함께 /mood 기분전환 (진정, 집중, 텐션업).\n"
        "• 사진이 두 장면 중 어느 쪽인지 애매하면 카드가 물어봐요. 하나를 골라 주세요.\n"
        "• 잘 맞았나요? 플레이리스트 아래 👍 또는 👎를 눌러 주세요 (반응으로도 돼요). 대화방의 "
        "누구나 평가할 수 있어요. /stats로 이 대화방의 적중률을 볼 수 있어요.\n"
        "• /prefs: 내 설정 (답장 언어, 제외할 아티스트, 성인용 곡).\n"
        "플레이리스트는 요청한 사람(또는 그룹 관리자)만 조정할 수 있어요."
    ),
}

COMMANDS = {
    Language.EN: [
        BotCommand(
            "mood", "Playlist for a photo (with a photo or as a reply); /mood lift: a journey"
        ),
        BotCommand("stats", "How well the playlists fit in this chat"),
        BotCommand("prefs", "Your settings: language, artists to leave out, explicit tracks"),
        BotCommand("help", "How to use AI DJ"),
        BotCommand("start", "Start and show how to use AI DJ"),
    ],
    Language.KO: [
        BotCommand(
            "mood", "사진에 어울리는 플레이리스트 (사진과 함께 또는 답장으로), /mood 기분전환: 여정"
        ),
        BotCommand("stats", "이 대화방 플레이리스트의 적중률"),
        BotCommand("prefs", "내 설정: 답장 언어, 제외할 아티스트, 성인용 곡"),
        BotCommand("help", "AI DJ 사용법"),
        BotCommand("start", "시작하고 사용법 보기"),
    ],
}


def help_text(language: Language) -> str:
    """The /start and /help answer (HTML)."""
    controls = " · ".join(f"{action.emoji} {control_name(action, language)}" for action in Action)
    by_action: dict[Action, list[str]] = {}
    for emoji, action in _REACTION_ALIASES.items():
        by_action.setdefault(action, []).append(emoji)
    reactions = " · ".join(
        f"{''.join(by_action[action])} {control_name(action, language)}"
        for action in Action
        if action in by_action
    )
    return _HELP[language].format(
        controls=controls, reactions=reactions, journeys=destination_names(language)
    )


# ---- the card ----------------------------------------------------------------------------


def card_caption(card: PlaylistCard, limit: int = CAPTION_LIMIT) -> str:
    """The card as Telegram HTML: bold title, explanation, playlist link, ten track links;
    trimmed (labels first, then explanation lines) to ``limit`` visible characters."""
    summary = list(summary_lines(card))
    while True:
        for budget in _LABEL_BUDGETS:
            caption = _compose(card, summary, budget)
            if visible_length(caption) <= limit:
                return caption
        if not summary:
            return caption  # unreachable for real cards: ten short links fit easily
        summary.pop()


def _compose(card: PlaylistCard, summary: list[str], label_budget: int) -> str:
    question = scene_question(card)  # never trimmed: it explains the scene buttons
    lines = [f"<b>{_escape(title(card))}</b>", *(_escape(line) for line in summary)]
    if question:
        lines.append(f"<b>{_escape(question)}</b>")
    lines.append("")
    if card.playlist_url:
        label = _escape(text("playlist", card.language))
        lines.append(f'<b><a href="{_escape_attr(card.playlist_url)}">{label}</a></b>')
    if card.tracks:
        lines.extend(
            track_line(number, track, label_budget)
            for number, track in enumerate(card.tracks, start=1)
        )
    else:
        lines.append(_escape(text("no_tracks", card.language)))
    return "\n".join(lines)


def track_line(number: int, track: Track, label_budget: int = _LABEL_BUDGETS[0]) -> str:
    """``1. <a href="https://open.spotify.com/track/ID">Artist - Title</a>``."""
    label = f"{track.artist_line} - {track.name}"
    if len(label) > label_budget:
        label = label[: label_budget - 1].rstrip() + "…"
    return f'{number}. <a href="{_escape_attr(track.url)}">{_escape(label)}</a>'


def visible_length(caption_html: str) -> int:
    """What Telegram counts against the caption limit: the text without tags, entities
    decoded, in UTF-16 code units."""
    plain = html.unescape(_TAG.sub("", caption_html))
    return len(plain.encode("utf-16-le")) // 2


def keyboard(card: PlaylistCard) -> InlineKeyboardMarkup:
    """The card's controls (``core.controls``), row by row; each button carries its control
    written as ``callback_data``."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton(button.label, callback_data=button.control.encode())
                for button in row
            ]
            for row in card_controls(card)
        ]
    )


def reaction_action(emoji: str) -> Action | None:
    """The action a reaction asks for: a control emoji itself, or one of its stand-ins."""
    action = Action.from_emoji(emoji)
    if action is not None:
        return action
    bare = emoji.replace("\ufe0f", "")
    return next((a for e, a in _REACTION_ALIASES.items() if e.replace("\ufe0f", "") == bare), None)


def _escape(value: str) -> str:
    return html.escape(value, quote=False)


def _escape_attr(value: str) -> str:
    return html.escape(value, quote=True)
