"""``/prefs`` pieces: the words (core.prefs), the stored settings, the replies (bot.prefs),
explicitness from a catalog CSV, and the catalog search leaving out what a listener asked.

The chat suites (tests/test_prefs_telegram.py, tests/test_prefs_discord.py) check the same
through the real bots; here each piece is pinned down on its own.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
from sqlite_utils import Database

from adapters.storage.catalog_import import import_catalog, store_tracks
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from adapters.storage.track_search import nearest
from bot.config import load_settings
from bot.prefs import answer_prefs
from bot.service import MoodService
from core.errors import ConfigError
from core.flow import Actor
from core.language import Language
from core.messages import PrefsReply, template, text_of
from core.mood import MoodPoint
from core.prefs import (
    MAX_ARTIST_CHARS,
    MAX_SKIPPED_ARTISTS,
    PrefsAction,
    PrefsCommand,
    PrefsUsageError,
    SkipRefused,
    UserPrefs,
    parse_prefs,
)
from core.recommend import artist_keys
from core.tracks import TrackFilter
from tests.catalog_factory import (
    TIDYTUESDAY_HEADER,
    TRACKS_DATASET_HEADER,
    make_track,
    synthetic_tracks,
    tidytuesday_row,
    tracks_dataset_row,
    write_csv,
)
from tests.full_scan import nearest_by_scan

HANGUL_SAMPLE = "가"


# ---- the words ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "command"),
    [
        ("", PrefsCommand(PrefsAction.SHOW)),
        ("  show ", PrefsCommand(PrefsAction.SHOW)),
        ("language ko", PrefsCommand(PrefsAction.LANGUAGE, "ko")),
        ("Language  AUTO", PrefsCommand(PrefsAction.LANGUAGE, "auto")),
        ("skip  The   Beatles ", PrefsCommand(PrefsAction.SKIP, "The Beatles")),
        ("unskip 아이유", PrefsCommand(PrefsAction.UNSKIP, "아이유")),
        ("explicit OFF", PrefsCommand(PrefsAction.EXPLICIT, "off")),
        ("reset", PrefsCommand(PrefsAction.RESET)),
    ],
)
def test_the_words_after_prefs(words, command):
    assert parse_prefs(words) == command


@pytest.mark.parametrize(
    "words",
    [
        "language fr",
        "language",
        "explicit maybe",
        "explicit",
        "skip",
        "unskip   ",
        "volume 11",
        "reset everything",
        "show me",
    ],
)
def test_words_that_are_not_a_command(words):
    with pytest.raises(PrefsUsageError):
        parse_prefs(words)


def test_skipped_artists_match_case_insensitively_and_are_bounded():
    prefs = UserPrefs().with_skip("The Beatles")
    assert prefs.with_skip("the beatles ") == prefs  # already there: unchanged
    assert prefs.skips("THE BEATLES")
    assert prefs.avoid() == TrackFilter(artists=artist_keys(["the beatles"]))
    assert prefs.without_skip("tHe BeAtLeS") == UserPrefs()
    assert UserPrefs().avoid() is None  # nothing to leave out
    assert UserPrefs(explicit=False).avoid() == TrackFilter(no_explicit=True)
    with pytest.raises(SkipRefused) as long:
        UserPrefs().with_skip("x" * (MAX_ARTIST_CHARS + 1))
    assert long.value.too_long
    full = UserPrefs(skip_artists=tuple(f"a{i}" for i in range(MAX_SKIPPED_ARTISTS)))
    with pytest.raises(SkipRefused) as refused:
        full.with_skip("one more")
    assert not refused.value.too_long
    assert full.with_skip("A0") == full  # one already there is no new entry


def test_the_reply_language_is_the_users_choice_first():
    assert UserPrefs().reply_language("ko-KR") == Language.KO
    assert UserPrefs().reply_language(None, "비 오는 날") == Language.KO
    assert UserPrefs(language=Language.EN).reply_language("ko-KR", "비 오는 날") == Language.EN
    assert UserPrefs().with_language("ko").reply_language("en") == Language.KO
    assert UserPrefs(language=Language.KO).with_language("auto") == UserPrefs()


# ---- stored and answered -----------------------------------------------------------------


@pytest.fixture
def storage(tmp_path) -> Iterator[Storage]:
    opened = Storage.open(tmp_path / "aidj.db")
    yield opened
    opened.close()


def actor(user: str = "u1", *, locale: str | None = "en", chat: str = "c1", **more) -> Actor:
    return Actor("telegram", chat, user, locale=locale, **more)


async def test_prefs_are_kept_per_user_and_platform(storage):
    await storage.update_user_prefs("telegram", "u1", lambda p: p.with_skip("Muse"))
    await storage.update_user_prefs("telegram", "u1", lambda p: p.with_explicit("off"))
    kept = await storage.user_prefs("telegram", "u1")
    assert kept == UserPrefs(skip_artists=("Muse",), explicit=False)
    assert await storage.user_prefs("telegram", "u2") == UserPrefs()
    assert await storage.user_prefs("discord", "u1") == UserPrefs()


async def test_a_refused_change_changes_nothing(storage):
    await storage.update_user_prefs("telegram", "u1", lambda p: p.with_skip("Muse"))

    def refuse(prefs: UserPrefs) -> UserPrefs:
        raise SkipRefused(too_long=True)

    with pytest.raises(SkipRefused):
        await storage.update_user_prefs("telegram", "u1", refuse)
    assert await storage.user_prefs("telegram", "u1") == UserPrefs(skip_artists=("Muse",))


async def test_back_at_the_defaults_keeps_no_row(tmp_path, storage):
    await storage.update_user_prefs("telegram", "u1", lambda p: p.with_language("ko"))
    await storage.update_user_prefs("telegram", "u1", lambda p: p.with_language("auto"))
    db = open_database(tmp_path / "aidj.db")
    try:
        assert db.execute("SELECT count(*) FROM user_prefs").fetchone()[0] == 0
    finally:
        db.close()


async def test_each_answer_in_english_and_korean(storage):
    english, korean = actor("en-user"), actor("ko-user", locale="ko")
    assert await answer_prefs(storage, english, "skip Muse") == text_of(
        PrefsReply.SKIPPED, Language.EN, artist="Muse"
    )
    assert await answer_prefs(storage, korean, "skip Muse") == text_of(
        PrefsReply.SKIPPED, Language.KO, artist="Muse"
    )
    shown = await answer_prefs(storage, english, "")
    assert "Muse" in shown and shown.startswith("Your settings")
    assert text_of(PrefsReply.EXPLICIT_ALLOWED, Language.EN) in shown
    assert HANGUL_SAMPLE not in shown
    assert (await answer_prefs(storage, korean, "show")).startswith("내 설정")
    assert await answer_prefs(storage, english, "unskip Blur") == text_of(
        PrefsReply.NOT_SKIPPED, Language.EN, artist="Blur"
    )
    assert await answer_prefs(storage, english, "unskip MUSE") == text_of(
        PrefsReply.UNSKIPPED, Language.EN, artist="MUSE"
    )
    assert await answer_prefs(storage, korean, "explicit off") == text_of(
        PrefsReply.EXPLICIT_OFF, Language.KO
    )
    assert await answer_prefs(storage, english, "skip " + "x" * 101) == text_of(
        PrefsReply.SKIP_TOO_LONG, Language.EN, limit=MAX_ARTIST_CHARS
    )


async def test_choosing_a_language_is_answered_in_it(storage):
    reply = await answer_prefs(storage, actor(), "language ko")
    assert reply == text_of(
        PrefsReply.LANGUAGE_SET, Language.KO, chosen=text_of(PrefsReply.LANGUAGE_KO, Language.KO)
    )
    assert (await answer_prefs(storage, actor(), "show")).startswith("내 설정")  # the EN locale
    assert await answer_prefs(storage, actor(), "language auto") == text_of(
        PrefsReply.LANGUAGE_SET_AUTO, Language.EN
    )


async def test_bad_words_get_the_usage_in_the_users_language(storage):
    assert await answer_prefs(storage, actor(), "language fr") == template(
        PrefsReply.USAGE, Language.EN
    )
    assert await answer_prefs(storage, actor(locale="ko"), "volume 11") == template(
        PrefsReply.USAGE, Language.KO
    )
    assert await storage.user_prefs("telegram", "u1") == UserPrefs()  # nothing changed


async def test_reset_clears_the_users_prefs_and_says_who_may_reset_the_taste(storage):
    for who in (actor("member"), actor("admin", is_admin=True), actor("alone", private=True)):
        await storage.update_user_prefs("telegram", who.user_id, lambda p: p.with_skip("Muse"))
    assert await answer_prefs(storage, actor("member"), "reset") == text_of(
        PrefsReply.RESET_TASTE_KEPT, Language.EN
    )
    assert await answer_prefs(storage, actor("admin", is_admin=True), "reset") == text_of(
        PrefsReply.RESET_WITH_TASTE, Language.EN
    )
    assert await answer_prefs(storage, actor("alone", private=True), "reset") == text_of(
        PrefsReply.RESET_WITH_TASTE, Language.EN
    )
    for user in ("member", "admin", "alone"):
        assert await storage.user_prefs("telegram", user) == UserPrefs()


def test_taste_settings_are_validated():
    settings = load_settings(
        {"AIDJ_TASTE_MIN_PRESSES": "3", "AIDJ_TASTE_HALF_LIFE_DAYS": "7", "AIDJ_NUDGE_STEP": "0.2"},
        dotenv=False,
    )
    rule = settings.taste_rule()
    assert (rule.min_presses, rule.half_life_days, rule.max_shift, rule.step) == (3, 7.0, 0.1, 0.2)
    for name, value in (
        ("AIDJ_TASTE_MIN_PRESSES", "-1"),
        ("AIDJ_TASTE_HALF_LIFE_DAYS", "0"),
        ("AIDJ_TASTE_MAX_SHIFT", "0.9"),
    ):
        with pytest.raises(ConfigError, match=name):
            load_settings({name: value}, dotenv=False)


# ---- explicitness in the catalog ---------------------------------------------------------


@pytest.fixture
def db() -> Iterator[Database]:
    opened = open_database(":memory:")
    yield opened
    opened.close()


def explicit_of(db: Database) -> dict[str, int | None]:
    return dict(db.execute("SELECT id, explicit FROM tracks").fetchall())


def test_the_tracks_dataset_says_which_tracks_are_explicit(db, tmp_path):
    rude, clean, unknown = (make_track(k, 0.5, 0.5) for k in ("rude", "clean", "unknown"))
    rows = [
        tracks_dataset_row(rude, "pop", 0, explicit="True"),
        tracks_dataset_row(clean, "pop", 1, explicit="False"),
        tracks_dataset_row(unknown, "pop", 2, explicit=""),
    ]
    import_catalog(db, write_csv(tmp_path / "t.csv", TRACKS_DATASET_HEADER, rows))
    assert explicit_of(db) == {rude.id: 1, clean.id: 0, unknown.id: None}
    # a later file that says otherwise updates the track
    import_catalog(
        db,
        write_csv(tmp_path / "u.csv", TRACKS_DATASET_HEADER, [tracks_dataset_row(rude, "pop", 0)]),
    )
    assert explicit_of(db)[rude.id] == 0


def test_the_tidytuesday_format_does_not_know(db, tmp_path):
    track = make_track("t", 0.5, 0.5)
    rows = [tidytuesday_row(track, "pop")]
    import_catalog(db, write_csv(tmp_path / "tt.csv", TIDYTUESDAY_HEADER, rows))
    assert explicit_of(db) == {track.id: None}


def test_a_row_disagreeing_on_explicitness_is_counted_as_conflicting(db, tmp_path):
    track = make_track("t", 0.5, 0.5)
    rows = [
        tracks_dataset_row(track, "pop", 0, explicit="True"),
        tracks_dataset_row(track, "rock", 1, explicit="False"),
    ]
    summary = import_catalog(db, write_csv(tmp_path / "t.csv", TRACKS_DATASET_HEADER, rows))
    assert summary.conflicting_rows == 1 and explicit_of(db) == {track.id: 1}


def test_the_search_leaves_out_what_the_listener_asked(db):
    genres = [f"g{i}" for i in range(8)]
    rng = random.Random(3)
    tracks = [
        t._replace(
            artists=(f"artist {rng.randint(0, 60)}",),
            explicit=rng.choice([True, False, None]),
            genres=frozenset(rng.sample(genres, rng.choice([1, 2]))),
        )
        for t in synthetic_tracks(genres, 60, seed=5)
    ]
    store_tracks(db, tracks)
    explicit = {t.id for t in tracks if t.explicit}
    for _ in range(60):
        target = MoodPoint(rng.random(), rng.random())
        chosen = rng.sample(genres, rng.randint(1, 3))
        skipped = {f"ARTIST {rng.randint(0, 60)}" for _ in range(rng.randint(0, 8))}
        avoid = TrackFilter(artists=artist_keys(skipped), no_explicit=rng.random() < 0.6)
        fast = nearest(db, target, chosen, 10, avoid=avoid)
        slow = nearest_by_scan(db, target, chosen, 10, avoid=avoid)
        assert [t.id for t in fast] == [t.id for t in slow]
        assert not any(artist_keys(t.artists) & avoid.artists for t in fast)
        if avoid.no_explicit:
            assert not {t.id for t in fast} & explicit
    # and it does leave something out: the unfiltered answer has explicit tracks
    anywhere = nearest(db, MoodPoint(0.5, 0.5), genres, 30)
    assert {t.id for t in anywhere} & explicit


async def test_the_language_to_word_a_reply_in_is_the_users_choice_and_never_fails(
    tmp_path,
) -> None:
    """``language_for`` words the bot's own replies, failures of the database included: the
    user's /prefs choice first, and the app's language when the choice cannot be read."""
    storage = Storage.open(tmp_path / "own.db")
    service = MoodService(None, storage, load_settings({}, dotenv=False, db_path=tmp_path / "x"))
    assert await service.language_for("telegram", "u1", "en") is Language.EN
    assert await service.language_for("telegram", "u1", None, "비가 와요") is Language.KO
    await storage.update_user_prefs("telegram", "u1", lambda p: p.with_language("ko"))
    assert await service.language_for("telegram", "u1", "en", "rainy day") is Language.KO
    assert await service.language_for("discord", "u1", "en") is Language.EN  # per platform
    storage.close()  # the database is gone: the app's language, not an error
    assert await service.language_for("telegram", "u1", "en") is Language.EN
