"""An in-process fake of Discord: the REST API (/api/v10) and the gateway websocket.

Why a real server rather than mocks: the real discord.py client then runs unmodified (login,
gateway handshake, sharding, REST routes, multipart uploads, interactions, webhooks), so the
tests check what would go over the wire. The only configuration the client needs is
``discord.http.Route.BASE = fake.api_base``; the gateway URL comes from the fake's
``GET /gateway/bot`` answer (leave the client's ``shard_count`` unset, otherwise discord.py
connects to the real gateway).

The server runs on 127.0.0.1 (random free port) in the test's own event loop. It plays one
guild with two text channels (``channel_id``: mention the bot to talk to it;
``enabled_channel_id``: for the adapter's always-on channels), a DM channel, the bot user (with
Manage Messages), a bystander and a moderator (Manage Messages); ``add_guild`` adds more
guilds like it, each with channels and roles of its own. Any other user id works too:
the payload builders make members on the fly, with the @everyone permissions. Tests push
gateway events with :meth:`FakeDiscord.dispatch` and payload builders (:meth:`message_create`,
:meth:`reaction_add`, :meth:`reaction_remove`, :meth:`slash_command`, :meth:`button_press`),
then wait for and inspect the REST requests the client sent (:attr:`requests`,
:meth:`wait_for`).

Interactions, as Discord documents them: each takes exactly one response at
``POST /interactions/{id}/{token}/callback`` (a second is refused with 400, code 40060), within
3 s of its creation (later: 404, code 10062). A command may answer 4 (a message) or 5
(deferred); a button press also 6 (deferred update) or 7 (update), after which ``@original``
is the message the button is on. Followups and ``@original`` edits go through
``/webhooks/{application}/{token}``. Message components (on creates, edits and responses)
are validated: at most 5 action rows of 5 buttons, custom ids of 1 to 100 characters and
unique in the message, a label or an emoji on every button (400, code 50035, otherwise).

Limits, as Discord refuses them: an embed over its documented limits (title 256,
description 4096, 6000 characters in all, ...) is answered 400 with code 50035.

Faults: ``fail`` makes the next requests to a route answer as Discord does under load or
refusal: 429 with ``retry_after`` in the body and the rate-limit headers (and the ``Via``
header discord.py checks to tell Discord's 429 from a Cloudflare ban), 5xx, or 403 with
Discord's JSON error code. Events dispatched back to back reach the client in order, as
several gateway frames read in one go.

Sharding, as Discord does it: a connection identifies as shard ``[id, count]``; READY lists
only the guilds of that shard, each followed by its GUILD_CREATE, and an event of a guild goes
to the connection of shard ``(guild_id >> 22) % count`` (DMs to shard 0), to no other. A
client given an explicit ``shard_count`` skips ``GET /gateway/bot`` and connects to discord.py's
``DiscordWebSocket.DEFAULT_GATEWAY``: point that at :attr:`gateway_url` too.

Gateway encoding: JSON. Compression: when the client asks for ``compress=zlib-stream`` (what
discord.py does without a zstd module), every frame is deflated with one shared ``compressobj``
per connection and ended with ``Z_SYNC_FLUSH``, as Discord does; any other (or no) compression
request gets plain text frames, which discord.py also accepts.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

API_PREFIX = "/api/v10"
HEARTBEAT_INTERVAL_MS = 41_250
TIMESTAMP = "2024-01-01T00:00:00.000000+00:00"

# permission bits (https://discord.com/developers/docs/topics/permissions)
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
ADD_REACTIONS = 1 << 6
USE_APPLICATION_COMMANDS = 1 << 31
ADMINISTRATOR = 1 << 3
EPHEMERAL = 1 << 6  # message flag
INTERACTION_WINDOW_S = 3.0  # an interaction must have its response within this
MAX_ACTION_ROWS = 5
MAX_ROW_BUTTONS = 5
MAX_CUSTOM_ID = 100
MAX_BUTTON_LABEL = 80
MEMBER_PERMISSIONS = (
    VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | ADD_REACTIONS
    | USE_APPLICATION_COMMANDS
)


@dataclass(frozen=True)
class UploadedFile:
    """One file part of a multipart request."""

    field: str  # e.g. "files[0]"
    filename: str | None
    content_type: str | None
    data: bytes


@dataclass
class RecordedRequest:
    """One request the fake received, with what it answered."""

    method: str
    path: str  # without the /api/v10 prefix for API routes
    query: dict[str, str]
    json: Any  # the JSON body, or the multipart payload_json part
    files: list[UploadedFile] = field(default_factory=list)
    multipart: bool = False
    response: Any = None
    status: int = 200  # what the fake answered

    @property
    def ok(self) -> bool:
        return self.status < 400

    @property
    def payload(self) -> dict[str, Any]:
        """The JSON body when it is an object (command syncs send a list), else {}."""
        return self.json if isinstance(self.json, dict) else {}

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return self.payload.get("embeds") or []

    @property
    def content(self) -> str | None:
        return self.payload.get("content")


@dataclass(frozen=True)
class FakeGuild:
    """One guild: its id (which decides its shard), two text channels and two roles."""

    id: int
    channel_id: int  # mention the bot to talk to it here
    enabled_channel_id: int  # for the adapter's always-on channels
    bot_role_id: int
    moderator_role_id: int
    name: str = "Fake Guild"

    def on_shard(self, shard: tuple[int, int]) -> bool:
        """Whether Discord sends this guild's events to ``shard`` (``[id, count]``)."""
        shard_id, count = shard
        return (self.id >> 22) % count == shard_id


_RECORDED = web.RequestKey("recorded", RecordedRequest)
_ANY = object()  # matches any one path segment in _matches


def _matches(parts: list[str], pattern: list[object]) -> bool:
    return len(parts) == len(pattern) and all(
        p is _ANY or p == part for part, p in zip(parts, pattern, strict=True)
    )


# Discord's embed limits (https://discord.com/developers/docs/resources/message#embed-object-
# embed-limits): characters per field, and 6000 over an embed's text altogether
EMBED_LIMITS = {"title": 256, "description": 4096, "footer": 2048, "author": 256}
EMBED_TOTAL_LIMIT = 6000
EMBED_FIELDS_LIMIT, FIELD_NAME_LIMIT, FIELD_VALUE_LIMIT = 25, 256, 1024


def embeds_problem(embeds: list[dict[str, Any]]) -> str | None:
    """What breaks Discord's embed limits in ``embeds``, or None."""
    for embed in embeds:
        texts = {
            "title": embed.get("title") or "",
            "description": embed.get("description") or "",
            "footer": (embed.get("footer") or {}).get("text") or "",
            "author": (embed.get("author") or {}).get("name") or "",
        }
        fields = embed.get("fields") or []
        too_long = [name for name, text in texts.items() if len(text) > EMBED_LIMITS[name]]
        if too_long:
            return f"embed {too_long[0]} over {EMBED_LIMITS[too_long[0]]} characters"
        if len(fields) > EMBED_FIELDS_LIMIT:
            return f"more than {EMBED_FIELDS_LIMIT} embed fields"
        if any(
            len(f.get("name", "")) > FIELD_NAME_LIMIT or len(f.get("value", "")) > FIELD_VALUE_LIMIT
            for f in fields
        ):
            return "an embed field over its limit"
        total = sum(map(len, texts.values())) + sum(
            len(f.get("name", "")) + len(f.get("value", "")) for f in fields
        )
        if total > EMBED_TOTAL_LIMIT:
            return f"embed over {EMBED_TOTAL_LIMIT} characters in all"
    return None


def _json_response(body: Any, status: int, headers: dict[str, str] | None = None) -> web.Response:
    """JSON with exactly ``Content-Type: application/json``, as Discord sends it (discord.py
    compares the header verbatim; aiohttp's json_response would add a charset)."""
    return web.Response(
        body=json.dumps(body).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


@dataclass
class _Fault:
    method: str
    path: re.Pattern[str]
    status: int
    retry_after: float
    code: int
    times: int

    def answer(self) -> web.Response:
        """The error response Discord gives (https://discord.com/developers/docs/topics/
        rate-limits, .../opcodes-and-status-codes#json)."""
        if self.status == 429:
            body = {
                "message": "You are being rate limited.",
                "retry_after": self.retry_after,
                "global": False,
                "code": 0,
            }
            headers = {
                "Retry-After": str(max(1, round(self.retry_after))),
                "X-RateLimit-Limit": "5",
                "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset-After": str(self.retry_after),
                "X-RateLimit-Bucket": "fake-bucket",
                "X-RateLimit-Scope": "user",
                "Via": "1.1 google",
            }
            return _json_response(body, 429, headers)
        messages = {403: "Missing Permissions", 404: "Unknown Message"}
        message = messages.get(self.status, f"{self.status}: Internal Server Error")
        return _json_response({"message": message, "code": self.code}, self.status)


@dataclass
class _Interaction:
    """What Discord keeps of an interaction it dispatched: its kind (2 a command, 3 a
    component), the message a component is on, when it was created, and whether it has
    had its one response."""

    kind: int
    channel_id: int
    created_at: float
    message_id: int | None = None
    responded: bool = False

    @property
    def expired(self) -> bool:
        """Past the window for the first response (Discord answers 10062 then)."""
        return time.monotonic() - self.created_at > INTERACTION_WINDOW_S


def _error(status: int, code: int, message: str) -> tuple[int, dict[str, Any]]:
    """Discord's JSON error body (https://discord.com/developers/docs/topics/
    opcodes-and-status-codes#json)."""
    return status, {"message": message, "code": code}


def components_problem(components: Any) -> str | None:
    """What Discord would refuse in a message's ``components`` (https://discord.com/
    developers/docs/components/reference): at most 5 action rows of at most 5 buttons, each
    interactive button with a custom id of 1 to 100 characters, unique in the message, and a
    label or an emoji; None when they are valid."""
    if not isinstance(components, list):
        return "components must be an array"
    if len(components) > MAX_ACTION_ROWS:
        return f"at most {MAX_ACTION_ROWS} action rows"
    seen: set[str] = set()
    for row in components:
        if row.get("type") != 1:
            return "top-level components must be action rows (type 1)"
        buttons = row.get("components") or []
        if not 1 <= len(buttons) <= MAX_ROW_BUTTONS:
            return f"an action row holds 1 to {MAX_ROW_BUTTONS} buttons"
        for button in buttons:
            if button.get("type") != 2:
                return "only buttons (type 2) are supported by this fake"
            if not (button.get("label") or button.get("emoji")):
                return "a button needs a label or an emoji"
            if len(button.get("label") or "") > MAX_BUTTON_LABEL:
                return f"a button label has at most {MAX_BUTTON_LABEL} characters"
            if button.get("style") == 5:  # a link button: a url, no custom id
                continue
            custom_id = button.get("custom_id") or ""
            if not 1 <= len(custom_id) <= MAX_CUSTOM_ID:
                return f"custom_id must be 1 to {MAX_CUSTOM_ID} characters"
            if custom_id in seen:
                return f"custom_id {custom_id!r} is used twice in the message"
            seen.add(custom_id)
    return None


class _GatewayConnection:
    """One client websocket: its compression context and sequence numbers."""

    def __init__(self, ws: web.WebSocketResponse, compress: str | None) -> None:
        self.ws = ws
        self.deflate = zlib.compressobj() if compress == "zlib-stream" else None
        self.sequence = 0
        self.shard: tuple[int, int] = (0, 1)
        self.identified = False

    async def send(self, payload: dict[str, Any]) -> None:
        if payload.get("op") == 0:
            self.sequence += 1
            payload = {**payload, "s": self.sequence}
        text = json.dumps(payload)
        if self.deflate is None:
            await self.ws.send_str(text)
        else:
            data = self.deflate.compress(text.encode()) + self.deflate.flush(zlib.Z_SYNC_FLUSH)
            await self.ws.send_bytes(data)


class FakeDiscord:
    """Discord's REST API and gateway on 127.0.0.1; use ``async with FakeDiscord() as fake``."""

    def __init__(self, *, token: str | None = None, guild_locale: str = "en-US") -> None:
        """``token``: when set, bot-authenticated routes answer 401 to any other token
        (interaction callbacks and webhooks are authenticated by their URL token instead)."""
        self.token = token
        ids = itertools.count(1_100_000_000_000_000_001)
        self._ids = itertools.count(1_200_000_000_000_000_001)
        self.bot_user_id = next(ids)
        self.application_id = self.bot_user_id
        self.guild_id = next(ids)
        self.channel_id = next(ids)
        self.enabled_channel_id = next(ids)
        self.dm_channel_id = next(ids)
        self.owner_id = next(ids)
        self.requester_id = next(ids)
        self.bystander_id = next(ids)
        self.moderator_id = next(ids)
        self.bot_role_id = next(ids)
        self.moderator_role_id = next(ids)
        self.guild_locale = guild_locale
        self.guilds = [
            FakeGuild(
                self.guild_id,
                self.channel_id,
                self.enabled_channel_id,
                self.bot_role_id,
                self.moderator_role_id,
            )
        ]
        # guild ids are made to land on a given shard: their timestamp part (id >> 22) counts
        # up from here, far from the ids the other counters hand out
        self._guild_times = itertools.count(1_300_000_000_000_000_000 >> 22)

        self.requests: list[RecordedRequest] = []
        self.identifies: list[dict[str, Any]] = []
        self.gateway_queries: list[dict[str, str]] = []
        self.gateway_compression: list[str | None] = []  # what each connection's frames used
        self.gateway_received: list[dict[str, Any]] = []
        self.messages: dict[int, dict[str, Any]] = {}
        self._interactions: dict[str, _Interaction] = {}  # interaction token -> its state
        self._originals: dict[str, int] = {}  # interaction token -> original response id
        self._thinking: set[str] = set()  # deferred interactions with no followup yet
        self._files: dict[str, tuple[bytes, str]] = {}
        self._faults: list[_Fault] = []
        self._connections: list[_GatewayConnection] = []
        self._changed = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # ---- lifecycle -------------------------------------------------------------------

    async def __aenter__(self) -> FakeDiscord:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def start(self) -> None:
        app = web.Application(middlewares=[self._record_middleware])
        app.router.add_get("/gateway", self._gateway)
        app.router.add_get("/attachments/{channel_id}/{attachment_id}/{filename}", self._file)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        for connection in self._connections:
            if not connection.ws.closed:
                await connection.ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        """What to set ``discord.http.Route.BASE`` to."""
        return self.base_url + API_PREFIX

    @property
    def gateway_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}/gateway"

    def snowflake(self) -> int:
        return next(self._ids)

    def add_guild(self, *, shard: tuple[int, int], name: str = "Another Guild") -> FakeGuild:
        """A guild whose events Discord routes to ``shard`` (``(id, count)``), with its own
        channels and roles and the same members; add it before the clients connect."""
        shard_id, count = shard
        time = next(t for t in self._guild_times if t % count == shard_id)
        guild = FakeGuild(
            (time << 22) | 1,
            self.snowflake(),
            self.snowflake(),
            self.snowflake(),
            self.snowflake(),
            name,
        )
        self.guilds.append(guild)
        return guild

    def guild_of(self, channel_id: int) -> FakeGuild | None:
        """The guild a channel belongs to (None for the DM channel and unknown ids)."""
        return next(
            (g for g in self.guilds if channel_id in (g.channel_id, g.enabled_channel_id)), None
        )

    def fail(
        self,
        method: str,
        path: str,
        status: int,
        *,
        retry_after: float = 0.05,
        code: int = 0,
        times: int = 1,
    ) -> None:
        """The next ``times`` ``method`` requests whose path (without /api/v10) matches the
        regular expression ``path`` fail with ``status``: 429 waits ``retry_after`` seconds;
        403/404 carry the JSON ``code`` (50013 Missing Permissions, 10008 Unknown Message)."""
        self._faults.append(_Fault(method, re.compile(path), status, retry_after, code, times))

    def _take_fault(self, method: str, path: str) -> _Fault | None:
        for fault in self._faults:
            if fault.method == method and fault.times > 0 and fault.path.fullmatch(path):
                fault.times -= 1
                return fault
        return None

    # ---- waiting and inspecting ----------------------------------------------------------

    def find(
        self, method: str | None = None, path: str | None = None, *, prefix: str | None = None
    ) -> list[RecordedRequest]:
        """Recorded requests by method and exact path (or path prefix)."""
        return [
            r
            for r in self.requests
            if (method is None or r.method == method)
            and (path is None or r.path == path)
            and (prefix is None or r.path.startswith(prefix))
        ]

    async def wait_for(
        self,
        predicate: Callable[[RecordedRequest], bool],
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[RecordedRequest]:
        """The first ``count`` recorded requests matching ``predicate``, waiting up to
        ``timeout`` seconds for them to arrive."""
        async with asyncio.timeout(timeout):
            while True:
                found = [r for r in self.requests if predicate(r)]
                if len(found) >= count:
                    return found[:count]
                self._changed.clear()
                await self._changed.wait()

    async def wait_identified(self, timeout: float = 5.0) -> None:
        async with asyncio.timeout(timeout):
            while not any(c.identified for c in self._connections):
                self._changed.clear()
                await self._changed.wait()

    def _notify(self) -> None:
        self._changed.set()

    # ---- gateway -------------------------------------------------------------------------

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a DISPATCH (op 0) to the connection of the shard that owns ``data``'s guild
        (shard 0 for DMs), as Discord does; no connection of that shard is an error."""
        live = [c for c in self._connections if c.identified and not c.ws.closed]
        guild_id = int(data.get("guild_id") or 0)

        def owns(connection: _GatewayConnection) -> bool:
            shard_id, count = connection.shard
            return (guild_id >> 22) % count == shard_id if guild_id else shard_id == 0

        connection = next((c for c in live if owns(c)), None)
        if connection is None:
            raise RuntimeError(f"no identified gateway connection owns guild {guild_id}")
        await connection.send({"op": 0, "t": event, "d": data})

    @property
    def identified_shards(self) -> list[tuple[int, int]]:
        """The ``(id, count)`` of every connection that identified and is still open."""
        return [c.shard for c in self._connections if c.identified and not c.ws.closed]

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0)
        await ws.prepare(request)
        self.gateway_queries.append(dict(request.query))
        connection = _GatewayConnection(ws, request.query.get("compress"))
        self.gateway_compression.append("zlib-stream" if connection.deflate else None)
        self._connections.append(connection)
        await connection.send({"op": 10, "d": {"heartbeat_interval": HEARTBEAT_INTERVAL_MS}})
        async for message in ws:
            if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                break
            payload = json.loads(message.data)  # clients send plain JSON
            await self._on_gateway_message(connection, payload)
        return ws

    async def _on_gateway_message(
        self, connection: _GatewayConnection, payload: dict[str, Any]
    ) -> None:
        op = payload.get("op")
        if op == 1:  # heartbeat
            await connection.send({"op": 11})
            return
        self.gateway_received.append(payload)
        if op == 2:  # identify
            data = payload["d"]
            self.identifies.append(data)
            shard = data.get("shard") or [0, 1]
            connection.shard = (int(shard[0]), int(shard[1]))
            await connection.send({"op": 0, "t": "READY", "d": self.ready_payload(shard)})
            for guild in self.guilds:
                if guild.on_shard(connection.shard):
                    payload = self.guild_payload(guild)
                    await connection.send({"op": 0, "t": "GUILD_CREATE", "d": payload})
            connection.identified = True
            self._notify()
        elif op == 6:  # resume: say the session is gone so the client identifies again
            await connection.send({"op": 9, "d": False})

    # ---- REST ----------------------------------------------------------------------------

    @web.middleware
    async def _record_middleware(
        self, request: web.Request, handler: Callable[[web.Request], Any]
    ) -> web.StreamResponse:
        if request.path == "/gateway":
            return await handler(request)
        recorded = RecordedRequest(
            method=request.method,
            path=request.path.removeprefix(API_PREFIX),
            query=dict(request.query),
            json=None,
        )
        if request.content_type.startswith("multipart/"):
            recorded.multipart = True
            reader = await request.multipart()
            async for part in reader:
                if part.name == "payload_json":  # type: ignore[union-attr]
                    recorded.json = json.loads(await part.text())  # type: ignore[union-attr]
                else:
                    recorded.files.append(
                        UploadedFile(
                            field=part.name or "",  # type: ignore[union-attr]
                            filename=part.filename,  # type: ignore[union-attr]
                            content_type=part.headers.get("Content-Type"),
                            data=bytes(await part.read()),  # type: ignore[union-attr]
                        )
                    )
        elif request.can_read_body and request.content_type == "application/json":
            recorded.json = await request.json()
        request[_RECORDED] = recorded
        try:
            response = await handler(request)
        finally:
            self.requests.append(recorded)
            self._notify()
        return response

    async def _file(self, request: web.Request) -> web.Response:
        entry = self._files.get(request.path)
        if entry is None:
            return web.Response(status=404)
        data, content_type = entry
        return web.Response(body=data, content_type=content_type)

    async def _api(self, request: web.Request) -> web.StreamResponse:
        recorded: RecordedRequest = request[_RECORDED]
        parts = recorded.path.strip("/").split("/")
        if (
            self.token is not None
            and parts[0] not in ("interactions", "webhooks")
            and request.headers.get("Authorization") != f"Bot {self.token}"
        ):
            return _json_response({"message": "401: Unauthorized", "code": 0}, 401)
        fault = self._take_fault(request.method, recorded.path)
        if fault is not None:
            recorded.status = fault.status
            return fault.answer()
        answer = self._route(request.method, parts, recorded)
        if answer is None:
            body = {"message": f"fake: no route {request.method} {recorded.path}", "code": 0}
            recorded.status = 404
            return _json_response(body, 404)
        status, body = answer
        recorded.response = body
        recorded.status = status
        if body is None:
            return web.Response(status=status)
        return _json_response(body, status)

    def _route(
        self, method: str, parts: list[str], recorded: RecordedRequest
    ) -> tuple[int, Any] | None:
        commands = ["applications", _ANY, "commands"]
        guild_commands = ["applications", _ANY, "guilds", _ANY, "commands"]
        problem = self._payload_problem(method, parts, recorded.payload)
        if problem is not None:
            return _error(400, 50035, f"Invalid Form Body: {problem}")
        match method, parts:
            case "GET", ["users", "@me"]:
                return 200, self.bot_user()
            case "GET", ["oauth2", "applications", "@me"] | ["applications", "@me"]:
                return 200, self.application_payload()
            case "GET", ["gateway", "bot"]:
                limit = {"total": 1000, "remaining": 999, "reset_after": 0, "max_concurrency": 1}
                return 200, {"url": self.gateway_url, "shards": 1, "session_start_limit": limit}
            case "GET", ["gateway"]:
                return 200, {"url": self.gateway_url}
            case "POST", ["channels", _, "typing"]:
                return 204, None
            case "POST", ["channels", channel_id, "messages"]:
                return 200, self._new_message(int(channel_id), recorded.payload, recorded.files)
            case "PATCH", ["channels", channel_id, "messages", message_id]:
                return 200, self._edit_message(int(channel_id), int(message_id), recorded)
            case "PUT", ["channels", _, "messages", _, "reactions", _, "@me"]:
                return 204, None
            case "DELETE", ["channels", _, "messages", _, "reactions", _, _]:
                return 204, None
            case "POST", ["interactions", interaction_id, token, "callback"]:
                return self._interaction_callback(interaction_id, token, recorded)
            case "POST", ["webhooks", _, token]:
                if token in self._thinking:  # the first followup replaces "thinking..."
                    self._thinking.discard(token)
                    return 200, self._edit_message(None, self._originals[token], recorded)
                interaction = self._interactions.get(token)
                channel_id = interaction.channel_id if interaction else self.channel_id
                return 200, self._new_message(
                    channel_id, recorded.payload, recorded.files, webhook=True
                )
            case "PATCH", ["webhooks", _, token, "messages", message_id]:
                target = self._webhook_message_id(token, message_id)
                if target is None:
                    return _error(404, 10008, "Unknown Message")
                return 200, self._edit_message(None, target, recorded)
            case "GET", ["webhooks", _, token, "messages", message_id]:
                target = self._webhook_message_id(token, message_id)
                found = self.messages.get(target) if target is not None else None
                return (200, found) if found else _error(404, 10008, "Unknown Message")
            case "PUT", path if _matches(path, commands) or _matches(path, guild_commands):
                return 200, [self._command(c) for c in recorded.json or []]
            case "GET", path if _matches(path, commands) or _matches(path, guild_commands):
                return 200, []
        return None

    def _interaction_callback(
        self, interaction_id: str, token: str, recorded: RecordedRequest
    ) -> tuple[int, Any]:
        """An interaction's one response (https://discord.com/developers/docs/interactions/
        receiving-and-responding): 4 a message, 5 deferred ("thinking"), both creating the
        original response; for a component, also 6 (deferred update) and 7 (update), whose
        original is the message the component is on. A second response is refused (40060),
        and so is one after the 3 s window (10062)."""
        interaction = self._interactions.get(token)
        if interaction is None or interaction.expired:
            return _error(404, 10062, "Unknown interaction")
        if interaction.responded:
            return _error(400, 40060, "Interaction has already been acknowledged.")
        kind = recorded.payload.get("type")
        data = recorded.payload.get("data") or {}
        if kind not in (4, 5) and not (interaction.kind == 3 and kind in (6, 7)):
            return _error(400, 50035, f"Invalid Form Body: callback type {kind} not valid here")
        interaction.responded = True
        if kind in (4, 5):
            original = self._new_message(interaction.channel_id, data, recorded.files, webhook=True)
            if kind == 5:
                self._thinking.add(token)
        else:
            assert interaction.message_id is not None
            original = self.messages[interaction.message_id]
            if kind == 7:
                original = self._edit_message(
                    None, interaction.message_id, RecordedRequest("PATCH", "", {}, data)
                )
        self._originals[token] = int(original["id"])
        return 200, {
            "interaction": {
                "id": interaction_id,
                "type": interaction.kind,
                "response_message_id": original["id"],
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(data.get("flags", 0) & EPHEMERAL),
            },
            "resource": {"type": kind, "message": original} if kind in (4, 7) else {"type": kind},
        }

    def _webhook_message_id(self, token: str, message_id: str) -> int | None:
        """The message ``@original`` stands for (None before the interaction's response)."""
        if message_id == "@original":
            return self._originals.get(token)
        return int(message_id)

    @staticmethod
    def _payload_problem(method: str, parts: list[str], payload: dict[str, Any]) -> str | None:
        """What is wrong with the embeds or components a message create or edit (or an
        interaction response carrying a message) would set; None when they are valid."""
        if method not in ("POST", "PATCH"):
            return None
        if parts[0] == "interactions":
            payload = payload.get("data") or {}
        elif parts[0] not in ("channels", "webhooks"):
            return None
        if payload.get("embeds") and (problem := embeds_problem(payload["embeds"])):
            return problem
        if "components" not in payload:
            return None
        return components_problem(payload["components"])

    def _command(self, command: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": str(self.snowflake()),
            "application_id": str(self.application_id),
            "version": "1",
            "type": 1,
            "description": "",
            **command,
        }

    def _new_message(
        self,
        channel_id: int,
        payload: dict[str, Any],
        files: list[UploadedFile],
        *,
        webhook: bool = False,
    ) -> dict[str, Any]:
        """Store and return the message a send creates, as Discord would answer it."""
        message_id = self.snowflake()
        message: dict[str, Any] = {
            "id": str(message_id),
            "channel_id": str(channel_id),
            "author": self.bot_user(),
            "content": payload.get("content") or "",
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": self._attachments_of(channel_id, files),
            "embeds": payload.get("embeds") or [],
            "components": payload.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": payload.get("flags", 0),
        }
        guild = self.guild_of(channel_id)
        if guild is not None:
            message["guild_id"] = str(guild.id)
        if payload.get("message_reference"):
            message["message_reference"] = payload["message_reference"]
            message["type"] = 19
        if webhook:
            message["webhook_id"] = str(self.application_id)
            message["application_id"] = str(self.application_id)
        self.messages[message_id] = message
        return message

    def _edit_message(
        self, channel_id: int | None, message_id: int, recorded: RecordedRequest
    ) -> dict[str, Any]:
        message = self.messages.get(message_id)
        if message is None:  # a message the fake never saw: answer as if it existed
            message = {
                "id": str(message_id or self.snowflake()),
                "channel_id": str(channel_id or self.channel_id),
                "author": self.bot_user(),
                "content": "",
                "timestamp": TIMESTAMP,
                "type": 0,
            }
        payload = recorded.payload
        updated = dict(message)
        for key in ("content", "embeds", "components"):
            if key in payload:
                updated[key] = payload[key]
        if "attachments" in payload or recorded.files:
            channel = int(updated["channel_id"])
            updated["attachments"] = self._attachments_of(channel, recorded.files)
        updated["edited_timestamp"] = TIMESTAMP
        self.messages[int(updated["id"])] = updated
        return updated

    def _attachments_of(self, channel_id: int, files: list[UploadedFile]) -> list[dict[str, Any]]:
        return [
            self.attachment(
                upload.filename or "file",
                upload.data,
                upload.content_type or "application/octet-stream",
                channel_id=channel_id,
            )
            for upload in files
        ]

    # ---- payload builders ----------------------------------------------------------------

    def bot_user(self) -> dict[str, Any]:
        return self.user(self.bot_user_id, "AI DJ", bot=True)

    @staticmethod
    def user(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
        return {
            "id": str(user_id),
            "username": name,
            "global_name": name,
            "discriminator": "0",
            "avatar": None,
            "bot": bot,
            "public_flags": 0,
        }

    def member(self, user_id: int, name: str, *, roles: tuple[int, ...] = ()) -> dict[str, Any]:
        return {
            "user": self.user(user_id, name, bot=user_id == self.bot_user_id),
            "roles": [str(r) for r in roles],
            "joined_at": TIMESTAMP,
            "deaf": False,
            "mute": False,
            "flags": 0,
            "nick": None,
        }

    def role(self, role_id: int, name: str, permissions: int, position: int) -> dict[str, Any]:
        return {
            "id": str(role_id),
            "name": name,
            "permissions": str(permissions),
            "position": position,
            "color": 0,
            "hoist": False,
            "managed": False,
            "mentionable": False,
            "flags": 0,
        }

    def text_channel(self, channel_id: int, name: str, position: int) -> dict[str, Any]:
        guild = self.guild_of(channel_id) or self.guilds[0]
        return {
            "id": str(channel_id),
            "type": 0,
            "guild_id": str(guild.id),
            "name": name,
            "position": position,
            "permission_overwrites": [],
            "nsfw": False,
            "parent_id": None,
            "topic": None,
            "last_message_id": None,
            "rate_limit_per_user": 0,
        }

    def application_payload(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": "AI DJ",
            "description": "",
            "icon": None,
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": self.user(self.owner_id, "owner"),
            "verify_key": "0" * 64,
            "flags": 0,
            "team": None,
            "summary": "",
        }

    def ready_payload(self, shard: list[int]) -> dict[str, Any]:
        """READY for ``shard``: only the guilds Discord routes to it (GUILD_CREATEs follow)."""
        guilds = [
            {"id": str(g.id), "unavailable": True}
            for g in self.guilds
            if g.on_shard((int(shard[0]), int(shard[1])))
        ]
        return {
            "v": 10,
            "user": self.bot_user(),
            "guilds": guilds,
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway_url,
            "shard": list(shard),
            "application": {"id": str(self.application_id), "flags": 0},
            "private_channels": [],
            "relationships": [],
        }

    def guild_payload(self, guild: FakeGuild | None = None) -> dict[str, Any]:
        """GUILD_CREATE for ``guild`` (default: the first one)."""
        guild = guild or self.guilds[0]
        return {
            "id": str(guild.id),
            "name": guild.name,
            "icon": None,
            "owner_id": str(self.owner_id),
            "preferred_locale": self.guild_locale,
            "afk_channel_id": None,
            "afk_timeout": 300,
            "verification_level": 0,
            "default_message_notifications": 0,
            "explicit_content_filter": 0,
            "mfa_level": 0,
            "premium_tier": 0,
            "nsfw_level": 0,
            "system_channel_flags": 0,
            "features": [],
            "emojis": [],
            "stickers": [],
            "roles": [
                self.role(guild.id, "@everyone", MEMBER_PERMISSIONS, 0),
                self.role(guild.bot_role_id, "AI DJ", MEMBER_PERMISSIONS | MANAGE_MESSAGES, 1),
                self.role(guild.moderator_role_id, "mods", MANAGE_MESSAGES, 2),
            ],
            "channels": [
                self.text_channel(guild.channel_id, "general", 0),
                self.text_channel(guild.enabled_channel_id, "ai-dj", 1),
            ],
            "members": [
                self.member(self.bot_user_id, "AI DJ", roles=(guild.bot_role_id,)),
                self.member(self.owner_id, "owner"),
                self.member(self.requester_id, "requester"),
                self.member(self.bystander_id, "bystander"),
                self.member(self.moderator_id, "moderator", roles=(guild.moderator_role_id,)),
            ],
            "member_count": 5,
            "large": False,
            "unavailable": False,
            "joined_at": TIMESTAMP,
            "threads": [],
            "stage_instances": [],
            "guild_scheduled_events": [],
            "soundboard_sounds": [],
            "voice_states": [],
            "presences": [],
        }

    def attachment(
        self,
        filename: str,
        data: bytes,
        content_type: str | None,
        *,
        size: int | None = None,
        channel_id: int | None = None,
    ) -> dict[str, Any]:
        """An attachment payload whose URL this fake serves (``size`` may claim more bytes
        than ``data`` has, to test size checks without big uploads)."""
        attachment_id = self.snowflake()
        path = f"/attachments/{channel_id or self.channel_id}/{attachment_id}/{filename}"
        self._files[path] = (data, content_type or "application/octet-stream")
        payload: dict[str, Any] = {
            "id": str(attachment_id),
            "filename": filename,
            "size": len(data) if size is None else size,
            "url": self.base_url + path,
            "proxy_url": self.base_url + path,
        }
        if content_type is not None:
            payload["content_type"] = content_type
        return payload

    def message_create(
        self,
        *,
        author_id: int,
        content: str = "",
        attachments: list[dict[str, Any]] | None = None,
        channel_id: int | None = None,
        dm: bool = False,
        mention_bot: bool = False,
        bot_author: bool = False,
    ) -> dict[str, Any]:
        """A MESSAGE_CREATE payload; ``dm`` puts it in the bot's DM channel (no guild)."""
        channel = self.dm_channel_id if dm else (channel_id or self.channel_id)
        author = self.user(author_id, f"user{author_id % 1000}", bot=bot_author)
        data: dict[str, Any] = {
            "id": str(self.snowflake()),
            "channel_id": str(channel),
            "author": author,
            "content": (f"<@{self.bot_user_id}> " if mention_bot else "") + content,
            "timestamp": TIMESTAMP,
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [self.bot_user()] if mention_bot else [],
            "mention_roles": [],
            "attachments": attachments or [],
            "embeds": [],
            "pinned": False,
            "type": 0,
            "flags": 0,
        }
        if not dm:
            data["guild_id"] = str((self.guild_of(channel) or self.guilds[0]).id)
            member = self.member(author_id, author["username"])
            member.pop("user")
            data["member"] = member
        return data

    def reaction_add(
        self,
        *,
        user_id: int,
        message_id: int | str,
        emoji: str,
        channel_id: int | None = None,
        dm: bool = False,
    ) -> dict[str, Any]:
        """A MESSAGE_REACTION_ADD payload (with the member and its roles in guilds)."""
        data = self._reaction(user_id, message_id, emoji, channel_id, dm)
        if not dm:
            guild = self.guild_of(int(data["channel_id"])) or self.guilds[0]
            roles = (guild.moderator_role_id,) if user_id == self.moderator_id else ()
            data["member"] = self.member(user_id, f"user{user_id % 1000}", roles=roles)
        return data

    def reaction_remove(
        self,
        *,
        user_id: int,
        message_id: int | str,
        emoji: str,
        channel_id: int | None = None,
        dm: bool = False,
    ) -> dict[str, Any]:
        """A MESSAGE_REACTION_REMOVE payload: as Discord documents it, without a member."""
        return self._reaction(user_id, message_id, emoji, channel_id, dm)

    def _reaction(
        self,
        user_id: int,
        message_id: int | str,
        emoji: str,
        channel_id: int | None,
        dm: bool,
    ) -> dict[str, Any]:
        """What a reaction event says either way: who, which message, which emoji, and the
        guild (none in a DM)."""
        channel = self.dm_channel_id if dm else (channel_id or self.channel_id)
        data: dict[str, Any] = {
            "user_id": str(user_id),
            "channel_id": str(channel),
            "message_id": str(message_id),
            "emoji": {"id": None, "name": emoji},
            "type": 0,
            "burst": False,
        }
        if not dm:
            data["guild_id"] = str((self.guild_of(channel) or self.guilds[0]).id)
        return data

    def slash_command(
        self,
        name: str,
        *,
        user_id: int,
        options: list[dict[str, Any]] | None = None,
        attachments: list[dict[str, Any]] | None = None,
        locale: str = "en-US",
        channel_id: int | None = None,
        permissions: int | None = None,
        dm: bool = False,
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for a chat-input command in the channel's guild;
        attachment options refer to ``attachments`` by id (the interaction's resolved data).
        ``permissions``: the member's in that channel (Discord computes them into
        ``member.permissions``). ``dm``: in the bot's DM channel instead, as Discord sends
        those: no guild, a ``user`` rather than a ``member``, the DM channel with its
        recipient, context 1 (BOT_DM)."""
        channel = self.dm_channel_id if dm else (channel_id or self.channel_id)
        data: dict[str, Any] = {"id": str(self.snowflake()), "name": name, "type": 1}
        if options:
            data["options"] = options
        if attachments:
            data["resolved"] = {"attachments": {a["id"]: a for a in attachments}}
        return self._interaction_payload(
            2, data, user_id=user_id, channel_id=channel, locale=locale, permissions=permissions
        )

    def button_press(
        self,
        *,
        user_id: int,
        message_id: int | str,
        custom_id: str,
        locale: str = "en-US",
    ) -> dict[str, Any]:
        """An INTERACTION_CREATE payload for a press on a button of a message the fake holds,
        as Discord sends it (type 3, https://discord.com/developers/docs/interactions/
        receiving-and-responding#interaction-object): ``data`` with the custom id and the
        component type, the whole message with its components, and in a guild the member
        with its permissions in the channel (the user alone in a DM). Discord only sends
        presses on buttons the message has: any other ``custom_id`` is an error here."""
        message = self.messages[int(message_id)]
        on_message = [
            button.get("custom_id")
            for row in message.get("components") or []
            for button in row.get("components") or []
        ]
        if custom_id not in on_message:
            raise ValueError(f"message {message_id} has no button {custom_id!r}: {on_message}")
        data = {"custom_id": custom_id, "component_type": 2}
        channel = int(message["channel_id"])
        return self._interaction_payload(
            3, data, user_id=user_id, channel_id=channel, locale=locale, message=message
        )

    def _interaction_payload(
        self,
        kind: int,
        data: dict[str, Any],
        *,
        user_id: int,
        channel_id: int,
        locale: str,
        message: dict[str, Any] | None = None,
        permissions: int | None = None,
    ) -> dict[str, Any]:
        """An interaction of ``kind`` by ``user_id`` in ``channel_id`` (a guild channel or
        the DM channel), registered so its callback and webhooks answer as Discord's do.
        ``permissions``: the member's in the channel (default: the moderator's for the
        moderator, @everyone's for anyone else)."""
        interaction_id = self.snowflake()
        token = f"interaction-token-{interaction_id}"
        self._interactions[token] = _Interaction(
            kind,
            channel_id,
            time.monotonic(),
            message_id=None if message is None else int(message["id"]),
        )
        guild = self.guild_of(channel_id)
        name = f"user{user_id % 1000}"
        payload: dict[str, Any] = {
            "id": str(interaction_id),
            "application_id": str(self.application_id),
            "type": kind,
            "data": data,
            "channel_id": str(channel_id),
            "token": token,
            "version": 1,
            "locale": locale,
            "app_permissions": str(MEMBER_PERMISSIONS),
            "attachment_size_limit": 26_214_400,
            "entitlements": [],
        }
        if message is not None:
            payload["message"] = message
        if guild is None:  # the bot's DM channel
            user = self.user(user_id, name)
            payload["user"] = user
            payload["channel"] = {"id": str(channel_id), "type": 1, "recipients": [user]}
            payload["authorizing_integration_owners"] = {"1": str(user_id)}
            payload["context"] = 1
            return payload
        moderator = user_id == self.moderator_id
        member = self.member(user_id, name, roles=(guild.moderator_role_id,) if moderator else ())
        if permissions is None:
            permissions = MEMBER_PERMISSIONS | (MANAGE_MESSAGES if moderator else 0)
        member["permissions"] = str(permissions)
        payload |= {
            "guild_id": str(guild.id),
            "guild_locale": self.guild_locale,
            "channel": self.text_channel(channel_id, "general", 0),
            "member": member,
            "authorizing_integration_owners": {"0": str(guild.id)},
            "context": 0,
        }
        return payload
