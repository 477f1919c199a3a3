""" "Did it fit?" without a chat platform: the fit rate and its interval, the 👍 👎 controls,
the votes in SQLite (one per person per request, kept over a restart), the flow's rules
(anyone in the request's chat, nobody elsewhere), /stats in both languages and `aidj stats`.
"""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from adapters.storage.database import open_database
from adapters.storage.fit_log import FitLog
from adapters.storage.gateway import Storage
from adapters.storage.request_log import RequestLog
from bot.cli import main
from bot.service import MoodService
from core.controls import MAX_DATA_BYTES, Control, ControlKind, card_controls
from core.errors import NotInChatError, NotRequesterError, UnknownRequestError
from core.fit import MIN_VOTES, FitStats, StatsScope, Vote, VoteChange, VoteCount, reaction_change
from core.fit_text import stats_text, vote_notice
from core.flow import Actor, CardMessage, PhotoRequest
from core.language import Language
from core.messages import FitNotice, StatsText, text_of
from core.reply import PlaylistCard
from core.steering import Action
from tests.conftest import make_photo
from tests.test_messages import english_words
from tests.test_request_log import analysis

_message_ids = itertools.count(1)
HANGUL_BRAND = {"AI", "DJ"}  # the product's name may stand in a Korean text


# ---- the numbers -------------------------------------------------------------------------


def test_the_fit_rate_comes_with_its_wilson_interval() -> None:
    votes = VoteCount(up=8, down=2)
    assert votes.rate == 0.8
    low, high = votes.interval or (0, 0)
    assert (round(low, 3), round(high, 3)) == (0.490, 0.943)  # the textbook Wilson values
    many = VoteCount(up=80, down=20)
    assert many.interval is not None and many.interval[1] - many.interval[0] < high - low
    assert VoteCount().rate is None and VoteCount().interval is None
    assert VoteCount(up=0, down=5).interval == pytest.approx((0.0, 0.4345), abs=1e-4)
    assert not VoteCount(up=MIN_VOTES - 1).trustworthy and VoteCount(up=MIN_VOTES).trustworthy


def test_votes_are_read_from_emoji_and_reaction_changes() -> None:
    assert Vote.from_emoji("👍") is Vote.UP and Vote.from_emoji("👎️") is Vote.DOWN
    assert Vote.from_emoji("👍🏽") is Vote.UP  # a skin tone is the same vote
    assert Vote.from_emoji("🤔") is None and Vote.from_emoji("") is None
    assert reaction_change([], ["👍"]) == VoteChange(Vote.UP, on=True)
    assert reaction_change(["👍"], ["👎"]) == VoteChange(Vote.DOWN, on=True)
    assert reaction_change(["👍"], []) == VoteChange(Vote.UP, on=False)
    assert reaction_change(["👍", "👎"], ["👍"]) == VoteChange(Vote.UP, on=True)
    assert reaction_change(["👍"], ["👍", "🔥"]) is None  # the vote did not change
    assert reaction_change([], ["🔥"]) is None


def test_every_card_has_a_row_of_thumbs_within_both_platforms_limits() -> None:
    card = PlaylistCard(10**15, Language.EN, analysis(), analysis().final, (), 0.5)
    rows = card_controls(card)
    assert len(rows) <= 5 and all(len(row) <= 5 for row in rows)
    [thumbs] = [row for row in rows if row[0].control.kind is ControlKind.FIT]
    assert [(b.label, b.control.vote) for b in thumbs] == [("👍", Vote.UP), ("👎", Vote.DOWN)]
    for button in thumbs:
        data = button.control.encode()
        assert len(data.encode()) <= MAX_DATA_BYTES
        assert Control.parse(data) == button.control
    assert Control.fit(7, Vote.UP).encode() == "aidj:7:fit:up"
    assert Control.parse("aidj:7:fit:maybe") is None
    assert Control.steer(7, Action.CALMER).vote is None


def stats_of(**overrides: object) -> FitStats:
    counts: dict[str, object] = {
        "cards": {"rainy_day": 5, "sunset": 2},
        "votes": {"rainy_day": VoteCount(3, 1)},
        "nudges": {"calmer": 4, "regenerate": 6, "happier": 1, "sadder": 1},
        "chats": 1,
    }
    counts.update(overrides)
    return FitStats.of(StatsScope(), **counts)  # type: ignore[arg-type]


def test_stats_text_in_english() -> None:
    text = stats_text(stats_of(), Language.EN)
    lines = text.splitlines()
    assert lines[0] == text_of(StatsText.HEADER, Language.EN, cards=7)
    assert "👍 3 · 👎 1: 75% fit" in lines[1]
    assert text_of(StatsText.TOO_FEW, Language.EN, min=MIN_VOTES) in lines
    assert "• Rainy day: 5 playlists, 👍 3 👎 1 (75% fit)" in lines
    assert "• Sunset: 2 playlists, no votes" in lines
    assert lines[-1] == "Most pressed: 🔁 ten new songs ×6 · 🌙 calmer ×4 · ☀️ happier ×1"


def test_stats_text_in_korean_names_scenes_and_controls_in_korean() -> None:
    text = stats_text(stats_of(), Language.KO)
    assert "• 비 오는 날: 플레이리스트 5개, 👍 3 👎 1 (적중률 75%)" in text.splitlines()
    assert "🌙 더 차분하게 ×4" in text
    assert set(english_words(text)) <= HANGUL_BRAND, text


def test_stats_text_when_there_is_nothing_yet_or_no_votes() -> None:
    empty = stats_of(cards={}, votes={}, nudges={})
    for language in Language:
        assert stats_text(empty, language) == text_of(StatsText.NOTHING_YET, language)
    unrated = stats_text(stats_of(votes={}, nudges={}), Language.EN)
    assert text_of(StatsText.NO_VOTES, Language.EN) in unrated.splitlines()
    assert text_of(StatsText.NO_NUDGES, Language.EN) in unrated.splitlines()
    trusted = stats_text(stats_of(votes={"rainy_day": VoteCount(15, 5)}), Language.EN)
    assert "too few" not in trusted


def test_the_press_notice_says_what_happened_to_the_vote() -> None:
    assert vote_notice(None, Vote.UP, Language.EN) == "Thanks, noted 👍"
    assert vote_notice(Vote.UP, Vote.DOWN, Language.EN) == text_of(
        FitNotice.CHANGED, Language.EN, vote="👎"
    )
    assert vote_notice(Vote.DOWN, None, Language.KO) == "👎 평가를 취소했어요"


# ---- storage -----------------------------------------------------------------------------


def record(log: RequestLog, scene: str = "rainy_day", chat: str = "c1", **extra: str) -> int:
    values = {"platform": "telegram", "chat_id": chat, "user_id": "u1", "caption": ""}
    values.update(extra)
    return log.record_request(analysis(scene), language=Language.EN, **values)  # type: ignore[arg-type]


def test_one_vote_per_person_and_request_changed_toggled_or_taken_back(tmp_path: Path) -> None:
    db = open_database(tmp_path / "aidj.db")
    votes = FitLog(db)
    request = record(RequestLog(db))
    assert votes.toggle_vote(request, "telegram", "u1", Vote.UP) == (None, Vote.UP)
    assert votes.toggle_vote(request, "telegram", "u1", Vote.DOWN) == (Vote.UP, Vote.DOWN)
    assert votes.toggle_vote(request, "telegram", "u2", Vote.DOWN) == (None, Vote.DOWN)
    assert votes.toggle_vote(request, "telegram", "u1", Vote.DOWN) == (Vote.DOWN, None)
    assert votes.vote_of(request, "telegram", "u1") is None
    assert votes.change_vote(request, "telegram", "u1", Vote.UP) is None
    assert votes.change_vote(request, "telegram", "u1", Vote.UP) is Vote.UP  # set twice: one row
    assert not votes.withdraw_vote(request, "telegram", "u1", Vote.DOWN), "not their vote now"
    assert votes.withdraw_vote(request, "telegram", "u2", Vote.DOWN)
    rows = db.execute("SELECT user_id, vote FROM fit_votes ORDER BY user_id").fetchall()
    assert rows == [("u1", "up")]
    db.close()


async def test_votes_and_stats_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "aidj.db"
    storage = Storage.open(path)
    request = await storage.record_request(
        analysis("sunset"), platform="discord", chat_id="9", user_id="1", language=Language.KO,
        caption="",
    )  # fmt: skip
    await storage.change_vote(request, "discord", "2", Vote.UP)
    storage.close()

    again = Storage.open(path)
    try:
        assert await again.vote_of(request, "discord", "2") is Vote.UP
        stats = await again.fit_stats(StatsScope(platform="discord", chat_id="9"))
        assert (stats.cards, stats.votes) == (1, VoteCount(up=1))
        assert await again.toggle_vote(request, "discord", "2", Vote.UP) == (Vote.UP, None)
    finally:
        again.close()


def test_stats_count_one_chat_or_platform_and_cards_made_since(tmp_path: Path) -> None:
    db = open_database(tmp_path / "aidj.db")
    log, votes = RequestLog(db), FitLog(db)
    rainy, sunset = record(log), record(log, "sunset")
    elsewhere = record(log, chat="c2")
    on_discord = record(log, platform="discord", chat="c1")
    votes.change_vote(rainy, "telegram", "u1", Vote.UP)
    votes.change_vote(rainy, "telegram", "u2", Vote.DOWN)
    votes.change_vote(sunset, "telegram", "u1", Vote.UP)
    votes.change_vote(elsewhere, "telegram", "u9", Vote.DOWN)
    votes.change_vote(on_discord, "discord", "u9", Vote.DOWN)
    log.record_feedback(rainy, "u1", "calmer")
    log.record_feedback(rainy, "u1", "calmer")
    log.record_feedback(sunset, "u1", "regenerate")
    log.record_feedback(elsewhere, "u9", "sadder")

    chat = votes.stats(StatsScope(platform="telegram", chat_id="c1"), log)
    assert (chat.cards, chat.chats, chat.votes) == (2, 1, VoteCount(up=2, down=1))
    assert {s.scene: s.votes for s in chat.scenes} == {
        "rainy_day": VoteCount(1, 1),
        "sunset": VoteCount(1, 0),
    }
    assert chat.nudges == (("calmer", 2), ("regenerate", 1))
    assert log.nudge_counts(platform="telegram", chat_id="c1") == {"calmer": 2, "regenerate": 1}

    telegram = votes.stats(StatsScope(platform="telegram"), log)
    assert (telegram.cards, telegram.chats, telegram.votes) == (3, 2, VoteCount(2, 2))
    everything = votes.stats(StatsScope(), log)
    assert (everything.cards, everything.chats, everything.votes.down) == (4, 3, 3)
    later = datetime.now(UTC) + timedelta(days=1)
    assert votes.stats(StatsScope(since=later), log).cards == 0
    assert log.nudge_counts(since=later) == {}
    earlier = datetime.now(UTC) - timedelta(days=1)
    assert votes.stats(StatsScope(since=earlier.replace(tzinfo=None)), log).cards == 4

    log.forget(rainy)  # a card that never reached anyone takes its votes with it
    assert votes.stats(StatsScope(chat_id="c1", platform="telegram"), log).votes == VoteCount(1)
    db.close()


# ---- the flow ----------------------------------------------------------------------------


@pytest.fixture
def service(tiny_analyzer, own_settings):
    storage = Storage.open(own_settings.db_path)
    yield MoodService(tiny_analyzer, storage, own_settings)
    storage.close()


async def post(service: MoodService, chat: str = "g1", user: str = "alice") -> CardMessage:
    message_id = f"m{next(_message_ids)}"

    async def send(card: PlaylistCard) -> str:
        return message_id

    photo = PhotoRequest("telegram", chat, user, make_photo(), "rainy but happy")
    await service.recommend(photo, send)
    return CardMessage("telegram", chat, message_id)


async def no_edit(card: PlaylistCard) -> None:
    raise AssertionError("a vote does not edit the card")


async def press(service: MoodService, card: CardMessage, actor: Actor, vote: Vote) -> str | None:
    request_id = await service.request_for_message(card.platform, card.chat_id, card.message_id)
    assert request_id is not None
    pressed = await service.press(card, Control.fit(request_id, vote), actor, no_edit)
    assert pressed.card is None
    return pressed.notice


async def test_anyone_in_the_chat_may_vote_and_pressing_again_takes_it_back(service) -> None:
    card = await post(service)
    bob = Actor("telegram", "g1", "bob")  # not the requester, not an admin
    assert await press(service, card, bob, Vote.UP) == "Thanks, noted 👍"
    assert await press(service, card, bob, Vote.DOWN) == "Changed your vote to 👎"
    korean = Actor("telegram", "g1", "carol", locale="ko")
    assert await press(service, card, korean, Vote.UP) == "고마워요, 👍 기록했어요"
    stats = await service.chat_stats("telegram", "g1")
    assert stats.votes == VoteCount(up=1, down=1)
    assert await press(service, card, bob, Vote.DOWN) == "Your 👎 is taken back"
    assert (await service.chat_stats("telegram", "g1")).votes == VoteCount(up=1)


async def test_a_vote_from_another_chat_is_refused_and_kept_nowhere(service) -> None:
    card = await post(service)
    stranger = Actor("telegram", "g2", "mallory", is_admin=True)
    with pytest.raises(NotInChatError) as refused:
        await press(service, card, stranger, Vote.DOWN)
    assert isinstance(refused.value, NotRequesterError)  # refused like any control
    with pytest.raises(NotInChatError):
        await service.vote(card, stranger, Vote.DOWN)
    assert (await service.chat_stats("telegram", "g1")).votes == VoteCount()


async def test_a_thumb_naming_another_request_or_no_card_is_refused(service) -> None:
    card = await post(service)
    other = await post(service)
    other_id = await service.request_for_message("telegram", "g1", other.message_id)
    assert other_id is not None
    member = Actor("telegram", "g1", "bob")
    with pytest.raises(NotRequesterError):
        await service.press(card, Control.fit(other_id, Vote.UP), member, no_edit)
    with pytest.raises(UnknownRequestError):
        await service.vote(CardMessage("telegram", "g1", "not-a-card"), member, Vote.UP)
    assert (await service.chat_stats("telegram", "g1")).votes == VoteCount()


async def test_reactions_set_and_take_back_a_vote(service) -> None:
    card = await post(service)
    member = Actor("telegram", "g1", "bob")
    await service.vote(card, member, Vote.UP)
    await service.vote(card, member, Vote.UP)  # the same reaction seen twice: one vote
    assert (await service.chat_stats("telegram", "g1")).votes == VoteCount(up=1)
    await service.vote(card, member, Vote.DOWN, on=False)  # not their vote: nothing changes
    assert (await service.chat_stats("telegram", "g1")).votes == VoteCount(up=1)
    await service.vote(card, member, Vote.UP, on=False)
    assert (await service.chat_stats("telegram", "g1")).votes == VoteCount()


async def test_chat_stats_count_this_chats_cards_and_nudges_only(service) -> None:
    card = await post(service, chat="g1")
    await post(service, chat="g2")
    request_id = await service.request_for_message("telegram", "g1", card.message_id)
    assert request_id is not None
    requester = Actor("telegram", "g1", "alice")
    await service.press(card, Control.steer(request_id, Action.CALMER), requester, _kept)
    stats = await service.chat_stats("telegram", "g1")
    assert (stats.cards, stats.nudges) == (1, (("calmer", 1),))
    assert (await service.chat_stats("telegram", "nowhere")).cards == 0


async def _kept(card: PlaylistCard) -> None:
    """A steered card delivered (the chat edit went through)."""


async def test_a_vote_is_not_counted_among_the_cards_a_traced_flow_delivers(service) -> None:
    from prometheus_client import generate_latest

    from bot.metrics import Metrics
    from bot.observed import ObservedFlow
    from bot.trace import Tracer

    metrics = Metrics()
    flow = ObservedFlow(service, Tracer(metrics.request_finished))
    card = await post(service)
    request_id = await service.request_for_message("telegram", "g1", card.message_id)
    assert request_id is not None
    member = Actor("telegram", "g1", "bob")
    pressed = await flow.press(card, Control.fit(request_id, Vote.UP), member, no_edit)
    await flow.vote(card, Actor("telegram", "g1", "carol"), Vote.DOWN)
    assert pressed.notice == "Thanks, noted 👍"
    assert (await flow.chat_stats("telegram", "g1")).votes == VoteCount(up=1, down=1)
    assert "aidj_cards_total{" not in generate_latest(metrics.registry).decode()


# ---- aidj stats --------------------------------------------------------------------------


@pytest.fixture
def voted_db(tmp_path: Path) -> Path:
    """Two Telegram chats and one Discord channel, with votes and presses."""
    path = tmp_path / "aidj.db"
    db = open_database(path)
    log, votes = RequestLog(db), FitLog(db)
    for n in range(3):
        request = record(log, chat=f"c{n % 2}")
        votes.change_vote(request, "telegram", "u1", Vote.UP)
    cafe = record(log, "cozy_cafe", platform="discord", chat="d1")
    votes.change_vote(cafe, "discord", "u2", Vote.DOWN)
    log.record_feedback(cafe, "u2", "more_energy")
    db.close()
    return path


def test_aidj_stats_prints_a_table_over_all_chats(voted_db: Path, capsys) -> None:
    assert main(["stats", "--db", str(voted_db)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "AI DJ stats: all platforms, all time"
    assert "cards 4 in 3 chat(s)" in out
    assert any(line.startswith("votes 4: up 3, down 1, fit 75% (95% range") for line in out)
    [rainy] = [line for line in out if line.startswith("Rainy day")]
    assert rainy.split()[2:8] == ["3", "3", "3", "0", "100%", "44%-100%"]
    assert rainy.endswith("too few votes")
    assert out[-1] == "most pressed controls: more_energy 1"


def test_aidj_stats_json_for_one_platform(voted_db: Path, capsys) -> None:
    assert main(["stats", "--db", str(voted_db), "--platform", "discord", "--json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["cards"], stats["chats"]) == (1, 1)
    assert stats["votes"]["down"] == 1 and stats["votes"]["fit_rate"] == 0.0
    assert [s["scene"] for s in stats["scenes"]] == ["cozy_cafe"]
    assert stats["scenes"][0]["too_few"] is True
    assert stats["nudges"] == {"more_energy": 1}
    assert stats["scope"]["platform"] == "discord"


def test_aidj_stats_since_a_date(voted_db: Path, capsys) -> None:
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    assert main(["stats", "--db", str(voted_db), "--since", tomorrow]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"AI DJ stats: all platforms, cards made since {tomorrow}T00:00:00+00:00",
                   "no cards yet"]  # fmt: skip
    with pytest.raises(SystemExit) as usage:
        main(["stats", "--db", str(voted_db), "--since", "last week"])
    assert usage.value.code == 2
    assert "not a date" in capsys.readouterr().err
