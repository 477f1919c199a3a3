"""What the bot was asked and what it showed, so controls work after a restart.

A request row keeps the whole analysis (category distribution and caption scores as JSON
too), so a stored request re-renders exactly; ``target`` is the point after any nudges,
``scene_choice`` the scene the user picked when the photo was a close call, and ``journey``
where its songs move to (``core.journey``), if anywhere.
``shown_tracks`` is what regenerate excludes, ``reply_messages`` maps a chat message with
controls back to its request. Chat, user and message ids are stored as text (Telegram's
are integers, Discord's snowflakes overflow nothing but are strings in its API).

Synchronous: the flow calls these from a worker thread, one at a time, under its lock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlite_utils import Database

from adapters.storage.album_log import forget_album, insert_album, move_album, read_album
from adapters.storage.analysis_columns import (
    IMAGE_COLUMNS,
    PLACEMENT_COLUMNS,
    image_values,
    placement_values,
    stored_analysis,
    stored_image,
)
from adapters.storage.database import utc_now
from adapters.storage.request_scope import scope_filter
from core.albums import Album
from core.journey import Journey, JourneySource
from core.language import Language
from core.mood import (
    NO_DESTINATION,
    Analysis,
    AxisReading,
    CaptionLabel,
    Destination,
    DestinationReading,
    MoodPoint,
    Reading,
    TextReading,
)
from core.scene_choice import chosen_reading


@dataclass(frozen=True)
class StoredRequest:
    """A recorded request: enough to show it again and to steer it."""

    id: int
    platform: str
    chat_id: str
    user_id: str
    language: Language
    caption: str
    analysis: Analysis
    target: MoodPoint
    rounds: int  # cards shown so far; the next card's round number
    created_at: str
    # the scene the user picked when the photo was a close call (``core.scene_choice``);
    # ``analysis`` is then re-based on it
    scene_choice: str | None = None
    journey: Journey | None = None
    album: Album | None = None  # an album's photos; the fields above are its first photo's

    @property
    def category_id(self) -> str:
        return self.analysis.reading.image.category_id

    @property
    def seed_genres(self) -> tuple[str, ...]:
        return self.analysis.seed_genres

    @property
    def base(self) -> MoodPoint:
        return self.analysis.base

    @property
    def final(self) -> MoodPoint:
        return self.analysis.final


_REQUEST_NAMES = (
    "id",
    "platform",
    "chat_id",
    "user_id",
    "language",
    "caption",
    *IMAGE_COLUMNS,
    "text_valence_label",
    "text_valence_direction",
    "text_valence_confidence",
    "text_energy_label",
    "text_energy_direction",
    "text_energy_confidence",
    "text_scores",
    *PLACEMENT_COLUMNS,
    "target_valence",
    "target_energy",
    "rounds",
    "created_at",
    "scene_choice",
    "journey",
    "journey_source",
)
_REQUEST_COLUMNS = ", ".join(_REQUEST_NAMES)


class RequestLog:
    """The ``requests``, ``shown_tracks``, ``reply_messages`` and ``feedback`` tables."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record_request(
        self,
        analysis: Analysis,
        *,
        platform: str,
        chat_id: str | int,
        user_id: str | int,
        language: Language,
        caption: str,
        journey: Journey | None = None,
        album: Album | None = None,
    ) -> int:
        """Store a new request (target = the analysis' final point), with its album's
        photos when it is one (``analysis`` is then the first photo's); its id."""
        text = analysis.reading.text
        row = {
            "platform": platform,
            "chat_id": str(chat_id),
            "user_id": str(user_id),
            "language": language,
            "caption": caption,
            **image_values(analysis.reading.image),
            "text_valence_label": text.valence.label,
            "text_valence_direction": text.valence.direction,
            "text_valence_confidence": text.valence.confidence,
            "text_energy_label": text.energy.label,
            "text_energy_direction": text.energy.direction,
            "text_energy_confidence": text.energy.confidence,
            "text_scores": json.dumps(_text_scores(text)),
            **placement_values(analysis),
            "target_valence": analysis.final.valence,
            "target_energy": analysis.final.energy,
            "rounds": 0,
            "created_at": utc_now(),
            **_journey_columns(journey),
        }
        names = ", ".join(row)
        marks = ", ".join("?" * len(row))
        with self._db.atomic():
            cursor = self._db.execute(
                f"INSERT INTO requests ({names}) VALUES ({marks})", list(row.values())
            )
            request_id = cursor.lastrowid
            assert request_id is not None
            if album is not None:
                insert_album(self._db, request_id, album)
        return request_id

    def get(self, request_id: int) -> StoredRequest | None:
        """The request with ``request_id``, or None when there is none."""
        row = self._db.execute(
            f"SELECT {_REQUEST_COLUMNS} FROM requests WHERE id = ?", [request_id]
        ).fetchone()
        if row is None:
            return None
        stored = _stored(row)
        album = read_album(self._db, request_id, stored.analysis.reading.text)
        return stored if album is None else replace(stored, album=album)

    def commit_round(
        self,
        request_id: int,
        *,
        round: int,
        target: MoodPoint,
        track_ids: Sequence[str],
        user_id: str | int,
        action: str,
        rebased: Analysis | None = None,
        journey: Journey | None = None,
        album: Album | None = None,
    ) -> bool:
        """Keep a delivered press in one transaction: the new target and journey (None:
        none; a press that keeps one passes it) and an album's photos' points, the card's
        tracks as round ``round``, and the press; with ``rebased`` (a scene the user chose:
        its reading names the scene) also the choice and the re-based analysis. False
        (nothing written) when the request is no longer at that round: another press
        (another process on the same file) won."""
        columns: dict[str, object] = {
            "target_valence": target.valence,
            "target_energy": target.energy,
            "rounds": round + 1,
            **_journey_columns(journey),
        }
        if rebased is not None:
            columns |= _rebased_columns(rebased)
        assignments = ", ".join(f"{name} = ?" for name in columns)
        with self._db.atomic():
            moved = self._db.execute(
                f"UPDATE requests SET {assignments} WHERE id = ? AND rounds = ?",
                [*columns.values(), request_id, round],
            ).rowcount
            if moved != 1:
                return False
            if album is not None:
                move_album(self._db, request_id, album)
            self._insert_shown(request_id, track_ids, round)
            self.record_feedback(request_id, user_id, action)
        return True

    def forget(self, request_id: int) -> None:
        """Remove a request that never reached its user, with all that hangs on it (its
        playlist's row too: the id may be given to the next request)."""
        with self._db.atomic():
            for table in (
                "shown_tracks",
                "reply_messages",
                "feedback",
                "fit_votes",
                "spotify_playlists",
            ):
                self._db.execute(f"DELETE FROM {table} WHERE request_id = ?", [request_id])
            forget_album(self._db, request_id)
            self._db.execute("DELETE FROM requests WHERE id = ?", [request_id])

    def record_shown(self, request_id: int, track_ids: Sequence[str], round: int) -> None:
        """Remember the tracks of card number ``round`` so no later card repeats them."""
        with self._db.atomic():
            self._insert_shown(request_id, track_ids, round)
            self._db.execute(
                "UPDATE requests SET rounds = max(rounds, ?) WHERE id = ?",
                [round + 1, request_id],
            )

    def _insert_shown(self, request_id: int, track_ids: Sequence[str], round: int) -> None:
        shown_at = utc_now()
        self._db.conn.executemany(
            "INSERT OR IGNORE INTO shown_tracks "
            "(request_id, track_id, round, position, shown_at) VALUES (?, ?, ?, ?, ?)",
            [(request_id, tid, round, pos, shown_at) for pos, tid in enumerate(track_ids)],
        )

    def shown_ids(self, request_id: int) -> set[str]:
        """Every track id any card of this request has shown."""
        rows = self._db.execute(
            "SELECT track_id FROM shown_tracks WHERE request_id = ?", [request_id]
        )
        return {track_id for (track_id,) in rows}

    def link_message(
        self, platform: str, chat_id: str | int, message_id: str | int, request_id: int
    ) -> None:
        """Remember that a reply message (with controls) belongs to ``request_id``."""
        self._db.execute(
            "INSERT OR REPLACE INTO reply_messages (platform, chat_id, message_id, request_id) "
            "VALUES (?, ?, ?, ?)",
            [platform, str(chat_id), str(message_id), request_id],
        )

    def request_for_message(
        self, platform: str, chat_id: str | int, message_id: str | int
    ) -> int | None:
        """The request a reply message belongs to, or None for a message we never sent."""
        row = self._db.execute(
            "SELECT request_id FROM reply_messages "
            "WHERE platform = ? AND chat_id = ? AND message_id = ?",
            [platform, str(chat_id), str(message_id)],
        ).fetchone()
        return None if row is None else row[0]

    def record_feedback(self, request_id: int, user_id: str | int, action: str) -> None:
        """Log a control press (regenerate or a nudge) by ``user_id``."""
        self._db.execute(
            "INSERT INTO feedback (request_id, user_id, action, created_at) VALUES (?, ?, ?, ?)",
            [request_id, str(user_id), action, utc_now()],
        )

    def nudge_counts(
        self,
        *,
        platform: str | None = None,
        chat_id: str | None = None,
        since: datetime | None = None,
    ) -> dict[str, int]:
        """How often each control action (``feedback.action``: regenerate or a nudge) was
        pressed on the requests made in one platform / chat / since a moment (None: all),
        most pressed first."""
        where, params = scope_filter("r", platform=platform, chat_id=chat_id, since=since)
        rows = self._db.execute(
            "SELECT f.action, COUNT(*) AS presses "
            f"FROM feedback f JOIN requests r ON r.id = f.request_id WHERE {where} "
            "GROUP BY f.action ORDER BY presses DESC, f.action",
            params,
        )
        return {action: presses for action, presses in rows}


def _rebased_columns(rebased: Analysis) -> dict[str, object]:
    """The columns a scene choice changes: the choice, and the analysis placed on it (its
    base, final point, genres, and the chat's taste for that scene)."""
    return {"scene_choice": rebased.reading.image.category_id, **placement_values(rebased)}


def _text_scores(text: TextReading) -> dict[str, dict[str, float]]:
    """The caption's per-label scores: each axis', and the destination reading's when read."""
    scores = {"valence": text.valence.scores, "energy": text.energy.scores}
    if text.destination is not None:
        scores["destination"] = text.destination.scores
    return scores


def _destination(scores: dict[str, float] | None) -> DestinationReading | None:
    """The destination reading back from its scores (the winner is the best score)."""
    if not scores:
        return None
    best = max(scores, key=scores.__getitem__)
    destination = None if best == NO_DESTINATION else Destination(best)
    return DestinationReading(destination, scores[best], scores)


def _journey_columns(journey: Journey | None) -> dict[str, str | None]:
    if journey is None:
        return {"journey": None, "journey_source": None}
    return {"journey": journey.destination.value, "journey_source": journey.source.value}


def _journey(
    destination: str | None, source: str | None, reading: DestinationReading | None, caption: str
) -> Journey | None:
    """The stored journey; one the caption chose gets its confidence and words back."""
    if destination is None:
        return None
    how = JourneySource(source or JourneySource.CONTROL)
    if how is not JourneySource.CAPTION:
        return Journey(Destination(destination), how)
    confidence = reading.confidence if reading is not None else None
    return Journey(Destination(destination), how, confidence, caption)


def _stored(row: tuple) -> StoredRequest:
    values = dict(zip(_REQUEST_NAMES, row, strict=True))
    scores = json.loads(values["text_scores"])
    destination = _destination(scores.get("destination"))
    reading = Reading(
        image=stored_image(values),
        text=TextReading(
            valence=_axis(values, "valence", scores),
            energy=_axis(values, "energy", scores),
            destination=destination,
        ),
    )
    scene_choice = values["scene_choice"]
    if scene_choice is not None:
        reading = chosen_reading(reading, scene_choice)
    caption = values["caption"]
    return StoredRequest(
        id=values["id"],
        platform=values["platform"],
        chat_id=values["chat_id"],
        user_id=values["user_id"],
        language=Language.of(values["language"]),
        caption=caption,
        analysis=stored_analysis(reading, values),
        target=MoodPoint(values["target_valence"], values["target_energy"]),
        rounds=values["rounds"],
        created_at=values["created_at"],
        scene_choice=scene_choice,
        journey=_journey(values["journey"], values["journey_source"], destination, caption),
    )


def _axis(values: dict[str, Any], axis: str, scores: dict[str, Any]) -> AxisReading:
    """One caption axis from its ``text_<axis>_*`` columns and its scores."""
    return AxisReading(
        CaptionLabel(values[f"text_{axis}_label"]),
        values[f"text_{axis}_direction"],
        values[f"text_{axis}_confidence"],
        scores.get(axis, {}),
    )
