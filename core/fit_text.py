"""``/stats`` as chat text, and the popup after a 👍 / 👎 press, in Korean or English.

Plain text (no markup), so both platforms send it as it is: a few short lines, far below
Telegram's 4096 and Discord's 2000 characters even with all twelve scenes.
"""

from __future__ import annotations

from core.categories import CATEGORY_BY_ID
from core.fit import MIN_VOTES, FitStats, Vote, VoteCount
from core.journey import FEEDBACK_PREFIX, STAY, STAY_EMOJI, destination_emoji
from core.language import Language
from core.messages import FitNotice, StatsText, text_of
from core.mood import Destination
from core.reply import control_name, destination_label, destination_name
from core.steering import Action

TOP_NUDGES = 3


def vote_notice(before: Vote | None, after: Vote | None, language: Language) -> str:
    """What a press did to the presser's vote: noted, changed, or taken back."""
    if after is None:
        assert before is not None, "a withdrawal needs a vote to take back"
        return text_of(FitNotice.WITHDRAWN, language, vote=before.emoji)
    code = FitNotice.NOTED if before is None else FitNotice.CHANGED
    return text_of(code, language, vote=after.emoji)


def stats_text(stats: FitStats, language: Language) -> str:
    """The chat's stats: cards made, the fit rate overall and per scene, the most pressed
    controls; one friendly line when there is nothing yet."""
    if not stats.cards:
        return text_of(StatsText.NOTHING_YET, language)
    lines = [text_of(StatsText.HEADER, language, cards=stats.cards)]
    votes = stats.votes
    lines.append(_overall(votes, language))
    if votes.total and not votes.trustworthy:
        lines.append(text_of(StatsText.TOO_FEW, language, min=MIN_VOTES))
    lines.append("")
    lines.append(text_of(StatsText.SCENES, language))
    for scene in stats.scenes:
        category = CATEGORY_BY_ID.get(scene.scene)
        name = category.name(language) if category else scene.scene
        lines.append(
            text_of(
                StatsText.SCENE,
                language,
                scene=name,
                cards=scene.cards,
                fit=_scene_fit(scene.votes, language),
            )
        )
    lines.append("")
    if stats.nudges:
        shown = " · ".join(
            f"{_control(action, language)} ×{count}" for action, count in stats.nudges[:TOP_NUDGES]
        )
        lines.append(text_of(StatsText.NUDGES, language, nudges=shown))
    else:
        lines.append(text_of(StatsText.NO_NUDGES, language))
    return "\n".join(lines)


def percent(value: float) -> str:
    return f"{value:.0%}"


def _overall(votes: VoteCount, language: Language) -> str:
    rate, interval = votes.rate, votes.interval
    if rate is None or interval is None:
        return text_of(StatsText.NO_VOTES, language)
    low, high = interval
    return text_of(
        StatsText.FIT,
        language,
        up=votes.up,
        down=votes.down,
        rate=percent(rate),
        low=percent(low),
        high=percent(high),
    )


def _scene_fit(votes: VoteCount, language: Language) -> str:
    if votes.rate is None:
        return text_of(StatsText.SCENE_NO_VOTES, language)
    return text_of(
        StatsText.SCENE_FIT, language, up=votes.up, down=votes.down, rate=percent(votes.rate)
    )


def _control(value: str, language: Language) -> str:
    """A steering action as "🌙 calmer", a journey as "🌈 lift me up"; any other recorded
    press as stored."""
    if value.startswith(FEEDBACK_PREFIX):
        return _journey_control(value.removeprefix(FEEDBACK_PREFIX), language) or value
    try:
        action = Action(value)
    except ValueError:
        return value
    return f"{action.emoji} {control_name(action, language)}"


def _journey_control(value: str, language: Language) -> str | None:
    if value == STAY:
        return f"{STAY_EMOJI} {destination_label(None, language)}"
    try:
        destination = Destination(value)
    except ValueError:
        return None
    return f"{destination_emoji(destination)} {destination_name(destination, language)}"
