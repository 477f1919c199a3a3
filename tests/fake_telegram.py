"""A fake Telegram Bot API on 127.0.0.1, for driving the real python-telegram-bot client.

The bot under test gets ``base_url``/``base_file_url`` pointing here and otherwise runs
unmodified: getMe, long-polling getUpdates, getFile plus the file download, uploads as
multipart with ``attach://`` references, and so on. Every request is recorded (method, form
parameters, uploaded files) for assertions, and answers are realistic Bot API JSON
(``{"ok": true, "result": ...}``) that PTB parses into its objects.

Like the real server it refuses what Telegram would refuse: a wrong token, an unknown
file id, editing a message that does not exist, HTML it cannot parse, a caption over 1024
visible characters, an inline button without text or with callback_data outside 1-64
bytes. ``fail`` makes the next calls of a method answer as Telegram does under load or
refusal (429 with ``parameters.retry_after``, 5xx, 403), and updates pushed together
(``push_together``) come back from one getUpdates call, as a busy bot gets them. The builders
at the bottom make the updates a test pushes in.

Webhooks as Telegram keeps them: setWebhook stores the URL (https only) and the secret token
(:attr:`webhook`), deleteWebhook (or setWebhook with an empty URL) removes them, and while one
is set getUpdates is refused with 409 Conflict. :meth:`deliver` POSTs an update the way
Telegram does to a webhook (JSON, the secret in ``X-Telegram-Bot-Api-Secret-Token``), to the
address a reverse proxy would forward it to. :attr:`root_url` is the server's root, as a
self-hosted Bot API server is configured (``/bot<token>/`` and ``/file/bot<token>/`` below it).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any

import aiohttp
from aiohttp import web

CAPTION_LIMIT = 1024
TEXT_LIMIT = 4096
CALLBACK_DATA_BYTES = 64  # InlineKeyboardButton.callback_data: "1-64 bytes"
POLL_CAP_S = 0.5  # the longest a getUpdates call waits, whatever timeout the client asks
_HTML_TAGS = {
    "b",
    "strong",
    "i",
    "em",
    "u",
    "ins",
    "s",
    "strike",
    "del",
    "a",
    "code",
    "pre",
    "tg-spoiler",
    "span",
    "blockquote",
    "tg-emoji",
}
_ATTACH = re.compile(r"^attach://(.+)$")
_SECRET_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,256}$")
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_HTTPS_REQUIRED = "An HTTPS URL must be provided for webhook"


class ApiError(Exception):
    def __init__(self, code: int, description: str, retry_after: int | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.retry_after = retry_after


_FAULT_DESCRIPTIONS = {
    403: "Forbidden: bot was blocked by the user",
    429: "Too Many Requests: retry after {retry_after}",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


@dataclass
class Recorded:
    """One request the bot sent: the API method, its form fields, its uploaded files."""

    method: str
    params: dict[str, str]
    files: dict[str, bytes] = field(default_factory=dict)
    result: Any = None  # what the fake answered (for sendPhoto: the message the bot got)
    error: int | None = None  # the error code the fake answered instead, if any

    @property
    def ok(self) -> bool:
        """Whether the fake carried the call out (rather than answering an error)."""
        return self.error is None

    def json(self, name: str) -> Any:
        """A JSON-encoded parameter (reply_markup, media, commands, ...), decoded."""
        return json.loads(self.params[name])

    def int(self, name: str) -> int:
        return int(self.params[name])

    @property
    def chat_id(self) -> int:
        return int(self.params["chat_id"])

    @property
    def reply_to(self) -> int | None:
        """The message this one replies to (reply_parameters, or the legacy field)."""
        if "reply_parameters" in self.params:
            return int(self.json("reply_parameters")["message_id"])
        if "reply_to_message_id" in self.params:
            return int(self.params["reply_to_message_id"])
        return None


class FakeTelegram:
    """The fake server; ``async with FakeTelegram(token) as fake`` starts and stops it."""

    def __init__(
        self, token: str, *, bot_id: int = 7_000_000_001, bot_username: str = "aidj_test_bot"
    ) -> None:
        self.token = token
        self.bot = {
            "id": bot_id,
            "is_bot": True,
            "first_name": "AI DJ",
            "username": bot_username,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }
        self.requests: list[Recorded] = []
        self.chat_members: dict[tuple[int, int], str] = {}  # (chat, user) -> status
        self.messages: dict[tuple[int, int], dict[str, Any]] = {}  # what exists, to edit
        self.webhook: dict[str, str] | None = None  # setWebhook's parameters while one is set
        self._files: dict[str, tuple[bytes, int, str]] = {}  # id -> (data, size, path)
        self._updates: list[dict[str, Any]] = []
        self._faults: dict[str, list[ApiError]] = {}
        self._answered: set[str] = set()
        self._update_ids = itertools.count(1)
        self._query_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._file_numbers = itertools.count(1)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- server lifecycle ----------------------------------------------------------------

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._download)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets
        self.port = server.sockets[0].getsockname()[1]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root_url(self) -> str:
        """The server's root, as a self-hosted Bot API server's address is given."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        """For ``ApplicationBuilder.base_url``: PTB appends the token."""
        return f"http://127.0.0.1:{self.port}/bot"

    @property
    def base_file_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/file/bot"

    # ---- what the test does --------------------------------------------------------------

    def push(self, update: dict[str, Any]) -> int:
        """Queue an update for the next getUpdates; returns its update_id."""
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **update})
        asyncio.get_running_loop().create_task(self._notify())
        return update_id

    async def deliver(
        self, address: str, update: dict[str, Any], *, secret: str | None
    ) -> tuple[int, int]:
        """POST ``update`` to a webhook at ``address`` as Telegram does (with ``secret`` in
        the secret-token header, or no header for None): its update_id and the HTTP status
        the webhook answered."""
        update_id = next(self._update_ids)
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with (
            aiohttp.ClientSession() as session,
            session.post(address, json={"update_id": update_id, **update}, headers=headers) as r,
        ):
            return update_id, r.status

    def push_together(self, updates: Iterable[dict[str, Any]]) -> list[int]:
        """Queue several updates at once: the next getUpdates returns them all together."""
        return [self.push(update) for update in updates]  # no await between: one batch

    def fail(
        self, method: str, code: int, *, retry_after: int | None = None, times: int = 1
    ) -> None:
        """The next ``times`` calls of ``method`` fail as Telegram answers them: 429 "Too Many
        Requests" carries ``parameters.retry_after`` (seconds), others their usual text."""
        if code == 429 and retry_after is None:
            raise ValueError("Telegram's 429 always says when to retry")
        description = _FAULT_DESCRIPTIONS.get(code, "Error").format(retry_after=retry_after)
        self._faults.setdefault(method, []).extend(
            ApiError(code, description, retry_after) for _ in range(times)
        )

    def add_file(self, data: bytes, *, size: int | None = None, folder: str = "photos") -> str:
        """Store a file the bot may download; ``size`` is what Telegram reports for it."""
        number = next(self._file_numbers)
        file_id = f"FILE{number:06d}"
        self._files[file_id] = (data, len(data) if size is None else size, f"{folder}/f{number}")
        return file_id

    def mark(self) -> int:
        """The current position in the request log (to look only at what comes after)."""
        return len(self.requests)

    def calls(self, method: str, since: int = 0) -> list[Recorded]:
        return [r for r in self.requests[since:] if r.method == method]

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Recorded], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 5.0,
    ) -> Recorded:
        """The first request for ``method`` (after ``since``) matching ``predicate``."""

        def find() -> Recorded | None:
            for request in self.requests[since:]:
                if request.method == method and (predicate is None or predicate(request)):
                    return request
            return None

        try:
            async with asyncio.timeout(timeout), self._changed:
                while (found := find()) is None:
                    await self._changed.wait()
                return found
        except TimeoutError:
            seen = [r.method for r in self.requests[since:]]
            raise AssertionError(f"no {method} request within {timeout} s; saw {seen}") from None

    async def wait_for_all(
        self,
        method: str,
        count: int,
        predicate: Callable[[Recorded], bool] | None = None,
        *,
        since: int = 0,
        timeout: float = 5.0,
    ) -> list[Recorded]:
        """The first ``count`` requests for ``method`` (after ``since``) matching
        ``predicate``, once that many have arrived."""

        def found() -> list[Recorded]:
            return [
                r
                for r in self.requests[since:]
                if r.method == method and (predicate is None or predicate(r))
            ]

        try:
            async with asyncio.timeout(timeout), self._changed:
                while len(matching := found()) < count:
                    await self._changed.wait()
                return matching[:count]
        except TimeoutError:
            raise AssertionError(
                f"{len(found())} of {count} {method} requests within {timeout} s"
            ) from None

    async def send_photo(
        self, chat: dict[str, Any], sender: dict[str, Any], image: bytes, caption: str | None
    ) -> tuple[dict[str, Any], Recorded]:
        """A user's photo in, and the bot's answering sendPhoto (the card) once delivered."""
        since = self.mark()
        message = self.photo_message(chat, sender, image, caption)
        self.send_message_update(message)
        sent = await self.wait_for(
            "sendPhoto", lambda r: r.ok and r.reply_to == message["message_id"], since=since
        )
        return message, sent

    async def reply_to(self, message: dict[str, Any], *, since: int = 0) -> Recorded:
        """The bot's text reply (sendMessage) to ``message``."""
        return await self.wait_for(
            "sendMessage", lambda r: r.reply_to == message["message_id"], since=since
        )

    # ---- HTTP ----------------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        method = request.match_info["method"]
        params, files = await _read_params(request)
        recorded = Recorded(method, params, files)
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            self._record(recorded)
            return _error(404, "Not Found")
        try:
            if self._faults.get(method):
                raise self._faults[method].pop(0)
            _check_markup(recorded)
            recorded.result = await handler(recorded)
        except ApiError as error:
            recorded.error = error.code
            self._record(recorded)
            return _error(error.code, error.description, error.retry_after)
        self._record(recorded)
        return web.json_response({"ok": True, "result": recorded.result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.token:
            return web.Response(status=401)
        path = request.match_info["path"]
        self._record(Recorded("downloadFile", {"file_path": path}))
        for data, _, file_path in self._files.values():
            if file_path == path:
                return web.Response(body=data, content_type="application/octet-stream")
        return web.Response(status=404)

    def _record(self, recorded: Recorded) -> None:
        self.requests.append(recorded)
        asyncio.get_running_loop().create_task(self._notify())

    # ---- API methods ---------------------------------------------------------------------

    async def _m_getMe(self, r: Recorded) -> Any:
        return self.bot

    async def _m_setWebhook(self, r: Recorded) -> Any:
        url = r.params.get("url", "")
        if not url:  # an empty URL removes the webhook, as deleteWebhook does
            return await self._m_deleteWebhook(r)
        if not url.startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        secret = r.params.get("secret_token")
        if secret is not None and not _SECRET_TOKEN.fullmatch(secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        self.webhook = dict(r.params)
        return True

    async def _m_deleteWebhook(self, r: Recorded) -> Any:
        self.webhook = None
        if r.params.get("drop_pending_updates") in ("true", "True", "1"):
            self._updates.clear()
        return True

    async def _m_setMyCommands(self, r: Recorded) -> Any:
        return True

    async def _m_sendChatAction(self, r: Recorded) -> Any:
        return True

    async def _m_answerCallbackQuery(self, r: Recorded) -> Any:
        if len(r.params.get("text", "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        query_id = r.params.get("callback_query_id", "")
        if query_id in self._answered:  # a query is answered once
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        self._answered.add(query_id)
        return True

    async def _m_setMessageReaction(self, r: Recorded) -> Any:
        return True

    async def _m_getUpdates(self, r: Recorded) -> Any:
        if self.webhook is not None:
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(r.params.get("offset", 0) or 0)
        timeout = min(float(r.params.get("timeout", 0) or 0), POLL_CAP_S)
        if offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates and timeout > 0:
            async with self._changed:
                try:
                    async with asyncio.timeout(timeout):
                        while not self._updates:
                            await self._changed.wait()
                except TimeoutError:
                    pass
        limit = int(r.params.get("limit", 100) or 100)
        return self._updates[:limit]

    async def _m_getFile(self, r: Recorded) -> Any:
        file_id = r.params.get("file_id", "")
        if file_id not in self._files:
            raise ApiError(400, "Bad Request: invalid file_id")
        _, size, path = self._files[file_id]
        return {
            "file_id": file_id,
            "file_unique_id": f"U{file_id}",
            "file_size": size,
            "file_path": path,
        }

    async def _m_getChatMember(self, r: Recorded) -> Any:
        chat_id, user_id = int(r.params["chat_id"]), int(r.params["user_id"])
        status = self.chat_members.get((chat_id, user_id), "member")
        return chat_member(status, user(user_id))

    async def _m_sendMessage(self, r: Recorded) -> Any:
        text = r.params.get("text", "")
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        visible = _visible(text, r.params.get("parse_mode"))
        if _utf16_len(visible) > TEXT_LIMIT:
            raise ApiError(400, "Bad Request: message is too long")
        return self._new_message(r, {"text": visible})

    async def _m_sendPhoto(self, r: Recorded) -> Any:
        photo = r.files.get("photo")
        if photo is None and "photo" not in r.params:
            raise ApiError(400, "Bad Request: there is no photo in the request")
        fields: dict[str, Any] = {"photo": self._photo_sizes(photo or b"")}
        if "caption" in r.params:
            fields["caption"] = self._caption(r.params["caption"], r.params.get("parse_mode"))
        return self._new_message(r, fields)

    async def _m_editMessageMedia(self, r: Recorded) -> Any:
        message = self._existing(r)
        media = r.json("media")
        match = _ATTACH.match(str(media.get("media", "")))
        if match and match[1] not in r.files:
            raise ApiError(400, "Bad Request: can't find the attached file")
        if media.get("type") != "photo":
            raise ApiError(400, "Bad Request: unsupported media type in the fake")
        message["photo"] = self._photo_sizes(r.files.get(match[1], b"") if match else b"")
        message.pop("caption", None)
        if "caption" in media:
            message["caption"] = self._caption(media["caption"], media.get("parse_mode"))
        return self._edited(message, r)

    async def _m_editMessageCaption(self, r: Recorded) -> Any:
        message = self._existing(r)
        if "photo" not in message:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        message["caption"] = self._caption(r.params.get("caption", ""), r.params.get("parse_mode"))
        return self._edited(message, r)

    async def _m_editMessageText(self, r: Recorded) -> Any:
        message = self._existing(r)
        if "text" not in message:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        message["text"] = _visible(r.params.get("text", ""), r.params.get("parse_mode"))
        return self._edited(message, r)

    # ---- message bookkeeping -------------------------------------------------------------

    def _caption(self, caption: str, parse_mode: str | None) -> str:
        visible = _visible(caption, parse_mode)
        if _utf16_len(visible) > CAPTION_LIMIT:
            raise ApiError(400, "Bad Request: message caption is too long")
        return visible

    def _photo_sizes(self, data: bytes) -> list[dict[str, Any]]:
        file_id = self.add_file(data, folder="photos")
        return [photo_size(file_id, 90, len(data) // 4 or 1), photo_size(file_id, 800, len(data))]

    def _new_message(self, r: Recorded, fields: dict[str, Any]) -> dict[str, Any]:
        chat_id = r.chat_id
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": _chat_for(chat_id),
            "from": self.bot,
            **fields,
        }
        if "reply_markup" in r.params:
            message["reply_markup"] = r.json("reply_markup")
        self.messages[(chat_id, message["message_id"])] = message
        return message

    def _existing(self, r: Recorded) -> dict[str, Any]:
        if "inline_message_id" in r.params:
            raise ApiError(400, "Bad Request: inline messages are not part of the fake")
        key = (r.chat_id, r.int("message_id"))
        if key not in self.messages:
            raise ApiError(400, "Bad Request: message to edit not found")
        return self.messages[key]

    def _edited(self, message: dict[str, Any], r: Recorded) -> dict[str, Any]:
        message["edit_date"] = int(time.time())
        if "reply_markup" in r.params:
            message["reply_markup"] = r.json("reply_markup")
        else:
            message.pop("reply_markup", None)  # Telegram drops the keyboard if none is sent
        return dict(message)

    # ---- update builders -----------------------------------------------------------------

    def photo_message(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        image: bytes,
        caption: str | None = None,
        *,
        size: int | None = None,
        reply_to: dict[str, Any] | None = None,
        media_group_id: str | None = None,
    ) -> dict[str, Any]:
        """A user's photo message (two renditions, like Telegram sends); ``size`` overrides
        the reported file size of both."""
        file_id = self.add_file(image, size=size)
        reported = len(image) if size is None else size
        fields: dict[str, Any] = {
            "photo": [
                photo_size(f"{file_id}", 64, reported),
                photo_size(f"{file_id}", 128, reported),
            ]
        }
        if caption is not None:
            fields["caption"] = caption
            fields["caption_entities"] = _entities(caption, self.bot["username"])
        if media_group_id:
            fields["media_group_id"] = media_group_id
        return self.user_message(chat, sender, fields, reply_to=reply_to)

    def document_message(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        data: bytes,
        *,
        mime_type: str,
        file_name: str,
        size: int | None = None,
        caption: str | None = None,
    ) -> dict[str, Any]:
        file_id = self.add_file(data, size=size, folder="documents")
        fields: dict[str, Any] = {
            "document": {
                "file_id": file_id,
                "file_unique_id": f"U{file_id}",
                "file_name": file_name,
                "mime_type": mime_type,
                "file_size": len(data) if size is None else size,
            }
        }
        if caption is not None:
            fields["caption"] = caption
            fields["caption_entities"] = _entities(caption, self.bot["username"])
        return self.user_message(chat, sender, fields)

    def text_message(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        text: str,
        *,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        fields = {"text": text, "entities": _entities(text, self.bot["username"])}
        return self.user_message(chat, sender, fields, reply_to=reply_to)

    def user_message(
        self,
        chat: dict[str, Any],
        sender: dict[str, Any],
        fields: dict[str, Any],
        *,
        reply_to: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        message = {
            "message_id": next(self._message_ids),
            "date": int(time.time()),
            "chat": chat,
            "from": sender,
            **{k: v for k, v in fields.items() if v},
        }
        if reply_to is not None:
            message["reply_to_message"] = reply_to
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def send_message_update(self, message: dict[str, Any]) -> int:
        return self.push({"message": message})

    def press(self, sender: dict[str, Any], message: dict[str, Any], data: str) -> int:
        """A callback_query: ``sender`` pressed the button with ``data`` under ``message``."""
        return self.push(self.press_update(sender, message, data))

    def press_update(
        self, sender: dict[str, Any], message: dict[str, Any], data: str
    ) -> dict[str, Any]:
        """The update of a press, not queued yet (for ``push_together``)."""
        return {
            "callback_query": {
                "id": f"cq{next(self._query_ids)}",
                "from": sender,
                "message": message,
                "chat_instance": f"ci{message['chat']['id']}",
                "data": data,
            }
        }

    def react(
        self,
        sender: dict[str, Any] | None,
        message: dict[str, Any],
        new: Iterable[str],
        old: Iterable[str] = (),
    ) -> int:
        """A message_reaction update: ``sender`` changed their reaction on ``message``."""
        return self.push(self.reaction_update(sender, message, new, old))

    def reaction_update(
        self,
        sender: dict[str, Any] | None,
        message: dict[str, Any],
        new: Iterable[str],
        old: Iterable[str] = (),
    ) -> dict[str, Any]:
        """The update of a reaction change, not queued yet (for ``push_together``)."""
        update: dict[str, Any] = {
            "chat": message["chat"],
            "message_id": message["message_id"],
            "date": int(time.time()),
            "old_reaction": [{"type": "emoji", "emoji": e} for e in old],
            "new_reaction": [{"type": "emoji", "emoji": e} for e in new],
        }
        if sender is None:
            update["actor_chat"] = message["chat"]
        else:
            update["user"] = sender
        return {"message_reaction": update}


# ---- plain JSON builders -----------------------------------------------------------------


def user(user_id: int, *, language_code: str | None = "en", name: str = "Tester") -> dict:
    result: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": f"{name}{user_id}"}
    if language_code:
        result["language_code"] = language_code
    return result


def private_chat(person: dict[str, Any]) -> dict[str, Any]:
    return {"id": person["id"], "type": "private", "first_name": person["first_name"]}


def group_chat(chat_id: int = -1001234567890, title: str = "Music friends") -> dict[str, Any]:
    return {"id": chat_id, "type": "supergroup", "title": title}


def photo_size(file_id: str, side: int, size: int) -> dict[str, Any]:
    return {
        "file_id": f"{file_id}",
        "file_unique_id": f"U{file_id}x{side}",
        "width": side,
        "height": side,
        "file_size": size,
    }


def chat_member(status: str, person: dict[str, Any]) -> dict[str, Any]:
    """A ChatMember object with the fields its status requires."""
    member: dict[str, Any] = {"status": status, "user": person}
    if status == "creator":
        member["is_anonymous"] = False
    elif status == "administrator":
        rights = (
            "can_manage_chat",
            "can_delete_messages",
            "can_manage_video_chats",
            "can_restrict_members",
            "can_promote_members",
            "can_change_info",
            "can_invite_users",
            "can_post_stories",
            "can_edit_stories",
            "can_delete_stories",
        )
        member.update(dict.fromkeys(rights, True))
        member.update({"can_be_edited": False, "is_anonymous": False})
    return member


def _chat_for(chat_id: int) -> dict[str, Any]:
    if chat_id < 0:
        return group_chat(chat_id)
    return {"id": chat_id, "type": "private", "first_name": f"Tester{chat_id}"}


def _entities(text: str, bot_username: str) -> list[dict[str, Any]]:
    """bot_command and mention entities, like Telegram's parser (offsets in UTF-16)."""
    entities = []
    command = re.match(r"^/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text)
    if command:
        entities.append({"type": "bot_command", "offset": 0, "length": len(command[0])})
    for mention in re.finditer(r"@[A-Za-z0-9_]{5,32}", text):
        if command and mention.start() < command.end():
            continue
        offset = _utf16_len(text[: mention.start()])
        entities.append({"type": "mention", "offset": offset, "length": len(mention[0])})
    return entities


def _utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


class _TelegramHtml(HTMLParser):
    """Checks Telegram-flavoured HTML the way the server does and keeps the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise ApiError(400, f"Bad Request: can't parse entities: unsupported tag <{tag}>")
        if tag == "a" and not dict(attrs).get("href"):
            raise ApiError(400, "Bad Request: can't parse entities: <a> without href")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise ApiError(400, f"Bad Request: can't parse entities: unexpected </{tag}>")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible(text: str, parse_mode: str | None) -> str:
    if (parse_mode or "").upper() != "HTML":
        return text
    if re.search(r"&(?!lt;|gt;|amp;|quot;|#\d+;|#x[0-9a-fA-F]+;)", text):
        raise ApiError(400, "Bad Request: can't parse entities: unsupported entity")
    parser = _TelegramHtml()
    parser.feed(text)
    parser.close()
    if parser.stack:
        raise ApiError(400, f"Bad Request: can't parse entities: unclosed <{parser.stack[-1]}>")
    return "".join(parser.text)  # character references are already decoded


async def _read_params(request: web.Request) -> tuple[dict[str, str], dict[str, bytes]]:
    """Form fields and uploaded files, from a query string, a form or a multipart body."""
    params: dict[str, str] = dict(request.query)
    files: dict[str, bytes] = {}
    if request.method == "POST" and request.can_read_body:
        if (request.content_type or "").startswith("application/json"):
            body = await request.json()
            params.update({k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()})
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    files[name] = value.file.read()
                else:
                    params[name] = str(value)
    return params, files


def _check_markup(r: Recorded) -> None:
    """An inline keyboard as the Bot API checks it: every button has text, and its
    callback_data (when given) is 1 to 64 bytes."""
    if "reply_markup" not in r.params:
        return
    for row in r.json("reply_markup").get("inline_keyboard", []):
        for button in row:
            if not str(button.get("text", "")).strip():
                raise ApiError(400, "Bad Request: BUTTON_TEXT_INVALID")
            data = button.get("callback_data")
            if data is not None and not 1 <= len(str(data).encode()) <= CALLBACK_DATA_BYTES:
                raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _error(code: int, description: str, retry_after: int | None = None) -> web.Response:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if retry_after is not None:
        body["parameters"] = {"retry_after": retry_after}
    return web.json_response(body, status=code)
