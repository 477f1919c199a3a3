"""What a chat adapter does around the flow, for tests that drive ``MoodService`` directly:
posts cards (each with a message id of its own, as a chat would give it) and edits them in
place, keeping the edits; ``fail_edits`` makes the next edits fail as a chat API that stays
at 429 would."""

from __future__ import annotations

import itertools

from bot.service import MoodService
from core.flow import CardMessage, PhotoRequest
from core.reply import PlaylistCard

_message_ids = itertools.count(1)


class Chat:
    def __init__(self) -> None:
        self.edits: list[PlaylistCard] = []
        self.fail_edits = 0

    async def post(
        self, service: MoodService, photo: PhotoRequest
    ) -> tuple[PlaylistCard, CardMessage]:
        message_id = f"m{next(_message_ids)}"

        async def send(card: PlaylistCard) -> str:
            return message_id

        card = await service.recommend(photo, send)
        return card, CardMessage(photo.platform, photo.chat_id, message_id)

    async def edit(self, card: PlaylistCard) -> None:
        if self.fail_edits:
            self.fail_edits -= 1
            raise ConnectionError("the chat API answered 429 three times")
        self.edits.append(card)
