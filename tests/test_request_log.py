"""The request log: requests survive a restart, controls find them, regenerate never repeats."""

from __future__ import annotations

import dataclasses

import pytest
from sqlite_utils import Database

from adapters.storage.database import open_database
from adapters.storage.request_log import RequestLog
from adapters.storage.track_search import nearest
from core.categories import get_category
from core.mood import (
    Analysis,
    AxisReading,
    ImageReading,
    MoodPoint,
    Reading,
    TextReading,
)
from core.scene_choice import chosen_reading
from tests.catalog_factory import build_synthetic_catalog


def analysis(category_id: str = "rainy_day") -> Analysis:
    reading = Reading(
        image=ImageReading(category_id, 0.62, {category_id: 0.62, "sunset": 0.38}),
        text=TextReading(
            valence=AxisReading("positive", 1, 0.9, {"positive": 0.9, "negative": 0.1}),
            energy=AxisReading.neutral(),
        ),
    )
    return Analysis(
        reading=reading,
        base=MoodPoint(0.26, 0.41),
        final=MoodPoint(0.71, 0.41),
        seed_genres=get_category(category_id).seed_genres,
        base_source="anchors",
    )


def record(log: RequestLog, **overrides: object) -> int:
    values: dict[str, object] = {
        "platform": "telegram",
        "chat_id": 12345,
        "user_id": 678,
        "language": "ko",
        "caption": "비가 오지만 신나!",
    }
    values.update(overrides)
    return log.record_request(analysis(), **values)  # type: ignore[arg-type]


def shown_rounds(db: Database, request_id: int) -> list[list[str]]:
    """The track ids of each card of a request, in order, as stored in ``shown_tracks``."""
    rows = db.execute(
        "SELECT round, track_id FROM shown_tracks WHERE request_id = ? ORDER BY round, position",
        [request_id],
    ).fetchall()
    rounds: dict[int, list[str]] = {}
    for number, track_id in rows:
        rounds.setdefault(number, []).append(track_id)
    return [rounds[number] for number in sorted(rounds)]


@pytest.fixture
def db_path(tmp_path):
    return tmp_path / "aidj.db"


def test_a_request_round_trips_after_a_restart(db_path) -> None:
    db = open_database(db_path)
    request_id = record(RequestLog(db))
    db.close()
    stored = RequestLog(open_database(db_path)).get(request_id)
    assert stored is not None
    assert stored.analysis == analysis()
    assert (stored.platform, stored.chat_id, stored.user_id) == ("telegram", "12345", "678")
    assert (stored.language, stored.caption) == ("ko", "비가 오지만 신나!")
    assert stored.category_id == "rainy_day"
    assert stored.seed_genres == get_category("rainy_day").seed_genres
    assert (stored.base, stored.final) == (MoodPoint(0.26, 0.41), MoodPoint(0.71, 0.41))
    assert stored.target == stored.final
    assert stored.rounds == 0
    assert stored.created_at.endswith("+00:00")


def test_request_ids_increase_and_unknown_is_none() -> None:
    log = RequestLog(open_database(":memory:"))
    first, second = record(log), record(log, user_id="other")
    assert second == first + 1
    assert log.get(second + 100) is None


def test_commit_round_moves_the_target_and_keeps_the_card_at_once() -> None:
    db = open_database(":memory:")
    log = RequestLog(db)
    request_id = record(log)
    log.record_shown(request_id, ["a", "b"], 0)
    kept = log.commit_round(
        request_id,
        round=1,
        target=MoodPoint(0.71, 0.56),
        track_ids=["c", "d"],
        user_id=42,
        action="calmer",
    )
    stored = log.get(request_id)
    assert kept and stored.target == MoodPoint(0.71, 0.56)
    assert stored.final == MoodPoint(0.71, 0.41)
    assert stored.rounds == 2
    assert shown_rounds(db, request_id) == [["a", "b"], ["c", "d"]]


def test_a_chosen_scene_keeps_its_whole_placement_taste_included() -> None:
    """A scene choice re-bases the request on the other scene, where the chat's taste may
    differ: after it, the stored request explains itself with that scene's taste."""
    log = RequestLog(open_database(":memory:"))
    request_id = record(log)
    before = analysis()
    rebased = dataclasses.replace(
        before,
        reading=chosen_reading(before.reading, "sunset"),
        base=MoodPoint(0.7, 0.5),
        final=MoodPoint(0.9, 0.5),
        seed_genres=get_category("sunset").seed_genres,
        taste=MoodPoint(0.0, -0.1),
    )
    assert log.commit_round(
        request_id,
        round=0,
        target=MoodPoint(0.9, 0.5),
        track_ids=["a"],
        user_id=42,
        action="scene:sunset",
        rebased=rebased,
    )
    stored = log.get(request_id)
    assert stored.scene_choice == "sunset"
    assert stored.analysis == rebased


def test_commit_round_refuses_a_round_that_another_press_took() -> None:
    log = RequestLog(open_database(":memory:"))
    request_id = record(log)
    log.record_shown(request_id, ["a"], 0)
    first = dict(round=1, target=MoodPoint(0.2, 0.2), user_id=1, action="regenerate")
    assert log.commit_round(request_id, track_ids=["b"], **first)
    assert not log.commit_round(request_id, track_ids=["c"], **first)
    assert log.shown_ids(request_id) == {"a", "b"}
    assert log.get(request_id).target == MoodPoint(0.2, 0.2)


def test_forget_removes_the_request_and_all_that_hangs_on_it() -> None:
    db = open_database(":memory:")
    log = RequestLog(db)
    request_id, other = record(log), record(log)
    for rid in (request_id, other):
        log.record_shown(rid, ["a"], 0)
        log.link_message("telegram", "1", f"m{rid}", rid)
    db["spotify_playlists"].insert({"request_id": request_id, "playlist_id": "p1"})
    log.forget(request_id)
    assert log.get(request_id) is None
    assert not db["spotify_playlists"].count
    assert log.shown_ids(request_id) == set()
    assert log.request_for_message("telegram", "1", f"m{request_id}") is None
    assert log.request_for_message("telegram", "1", f"m{other}") == other


def test_shown_tracks_and_rounds() -> None:
    db = open_database(":memory:")
    log = RequestLog(db)
    request_id = record(log)
    other = record(log)
    log.record_shown(request_id, ["a", "b", "c"], 0)
    log.record_shown(request_id, ["d", "e"], 1)
    log.record_shown(other, ["a"], 0)
    assert log.shown_ids(request_id) == {"a", "b", "c", "d", "e"}
    assert shown_rounds(db, request_id) == [["a", "b", "c"], ["d", "e"]]
    assert log.get(request_id).rounds == 2
    assert log.shown_ids(other) == {"a"}
    log.record_shown(request_id, [], 2)  # an empty card still counts as a round
    assert log.get(request_id).rounds == 3


def test_reply_messages_find_their_request_after_a_restart(db_path) -> None:
    log = RequestLog(open_database(db_path))
    request_id = record(log)
    log.link_message("discord", "chan-1", "msg-9", request_id)
    log.link_message("telegram", 12345, 77, request_id)
    restarted = RequestLog(open_database(db_path))
    assert restarted.request_for_message("discord", "chan-1", "msg-9") == request_id
    assert restarted.request_for_message("telegram", "12345", "77") == request_id
    assert restarted.request_for_message("telegram", 12345, 77) == request_id
    assert restarted.request_for_message("discord", "chan-1", "msg-10") is None
    assert restarted.request_for_message("telegram", "chan-1", "msg-9") is None


def test_feedback_is_logged() -> None:
    db = open_database(":memory:")
    log = RequestLog(db)
    request_id = record(log)
    log.record_feedback(request_id, 678, "more_energy")
    log.record_feedback(request_id, "678", "regenerate")
    rows = db.execute("SELECT request_id, user_id, action FROM feedback ORDER BY id").fetchall()
    assert rows == [(request_id, "678", "more_energy"), (request_id, "678", "regenerate")]


def test_regenerate_with_the_log_never_repeats(db_path) -> None:
    db = build_synthetic_catalog(db_path, tracks_per_genre=4)
    log = RequestLog(db)
    request_id = record(log)
    stored = log.get(request_id)
    seen: list[str] = []
    for round_number in range(4):
        tracks = nearest(db, stored.target, stored.seed_genres, 10, log.shown_ids(request_id))
        assert len(tracks) == 10
        log.record_shown(request_id, [t.id for t in tracks], round_number)
        seen += [t.id for t in tracks]
    assert len(seen) == len(set(seen)) == 40
    assert log.get(request_id).rounds == 4
