"""The ``fit_votes`` table ("did it fit?"), and the counts ``/stats`` and ``aidj stats`` show.

One row per (request, platform, user): pressing 👍 after 👎 changes the row, taking a vote
back deletes it. Every change runs in one ``BEGIN IMMEDIATE`` transaction, so two bot
processes on one file cannot both read "no vote" and both insert. The counts are read here
and added up by ``core.fit.FitStats``: one computation for the chat command and the CLI.

Synchronous: called on the storage gateway's thread.
"""

from __future__ import annotations

from sqlite_utils import Database

from adapters.storage.database import utc_now, write_transaction
from adapters.storage.request_log import RequestLog
from adapters.storage.request_scope import scope_filter
from core.fit import FitStats, StatsScope, Vote, VoteCount


class FitLog:
    def __init__(self, db: Database) -> None:
        self._db = db

    def vote_of(self, request_id: int, platform: str, user_id: str) -> Vote | None:
        """The user's vote on the request now, or None."""
        row = self._db.execute(
            "SELECT vote FROM fit_votes WHERE request_id = ? AND platform = ? AND user_id = ?",
            [request_id, platform, str(user_id)],
        ).fetchone()
        return None if row is None else Vote(row[0])

    def change_vote(
        self, request_id: int, platform: str, user_id: str, vote: Vote | None
    ) -> Vote | None:
        """Set the user's vote (None: take it back); the vote it replaced, or None."""
        with write_transaction(self._db):
            before = self.vote_of(request_id, platform, user_id)
            self._write(request_id, platform, user_id, vote)
        return before

    def toggle_vote(
        self, request_id: int, platform: str, user_id: str, vote: Vote
    ) -> tuple[Vote | None, Vote | None]:
        """A press of the ``vote`` button: the same vote again takes it back, another one
        replaces it. The vote before and after."""
        with write_transaction(self._db):
            before = self.vote_of(request_id, platform, user_id)
            after = None if before is vote else vote
            self._write(request_id, platform, user_id, after)
        return before, after

    def withdraw_vote(self, request_id: int, platform: str, user_id: str, vote: Vote) -> bool:
        """Take back the user's vote if it is ``vote`` (a reaction removed: a vote set since
        by the other button stays); whether a vote was taken back."""
        with write_transaction(self._db):
            gone = self._db.execute(
                "DELETE FROM fit_votes "
                "WHERE request_id = ? AND platform = ? AND user_id = ? AND vote = ?",
                [request_id, platform, str(user_id), vote.value],
            ).rowcount
        return gone > 0

    def _write(self, request_id: int, platform: str, user_id: str, vote: Vote | None) -> None:
        if vote is None:
            self._db.execute(
                "DELETE FROM fit_votes WHERE request_id = ? AND platform = ? AND user_id = ?",
                [request_id, platform, str(user_id)],
            )
            return
        self._db.execute(
            "INSERT INTO fit_votes (request_id, platform, user_id, vote, at) "
            "VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (request_id, platform, user_id) "
            "DO UPDATE SET vote = excluded.vote, at = excluded.at",
            [request_id, platform, str(user_id), vote.value, utc_now()],
        )

    def stats(self, scope: StatsScope, requests: RequestLog) -> FitStats:
        """Cards, votes per scene and control presses over the requests in ``scope``."""
        where, params = scope_filter(
            "r", platform=scope.platform, chat_id=scope.chat_id, since=scope.since
        )
        cards = dict(
            self._db.execute(
                f"SELECT r.category_id, COUNT(*) FROM requests r WHERE {where} "
                "GROUP BY r.category_id",
                params,
            ).fetchall()
        )
        chats = self._db.execute(
            f"SELECT COUNT(*) FROM (SELECT DISTINCT r.platform, r.chat_id FROM requests r "
            f"WHERE {where})",
            params,
        ).fetchone()[0]
        votes: dict[str, VoteCount] = {}
        rows = self._db.execute(
            "SELECT r.category_id, "
            "SUM(v.vote = 'up'), SUM(v.vote = 'down') "
            f"FROM fit_votes v JOIN requests r ON r.id = v.request_id WHERE {where} "
            "GROUP BY r.category_id",
            params,
        )
        for scene, up, down in rows:
            votes[scene] = VoteCount(int(up), int(down))
        nudges = requests.nudge_counts(
            platform=scope.platform, chat_id=scope.chat_id, since=scope.since
        )
        return FitStats.of(scope, cards=cards, votes=votes, nudges=nudges, chats=chats)
