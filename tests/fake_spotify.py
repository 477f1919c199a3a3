"""An in-process fake of the Spotify Web API and the accounts (token) service.

Why a real HTTP server rather than mocks: spotipy and requests then run unmodified, so the
tests check the exact requests that would go over the wire (method, path, JSON body,
Authorization header) and the real error paths (status codes, Retry-After, read timeouts).

The server runs on 127.0.0.1 (random free port) in its own thread and event loop, so both
synchronous code (spotipy called directly) and async code (the ``asyncio.to_thread`` facade)
can talk to it. Use it as ``with FakeSpotify() as fake`` or ``async with FakeSpotify()``.

Response shapes and refusals follow Spotify's Web API reference as it stands after the
February 2026 changes for development-mode apps (which AI DJ's app is): endpoints removed for
them answer 403, objects lack the removed fields (a track's ``available_markets`` and
``popularity``; ``is_playable`` only comes with a ``market``), a playlist's item count is
``items`` (no ``tracks``), library removal is ``DELETE /me/library?uris=`` (at most 40), and
each call needs the scopes its reference names. Unfollowing one's own playlist does not delete
it: the owner can still fill it. Errors are ``{"error": {"status": N, "message": "..."}}`` for
the Web API and ``{"error": "...", "error_description": "..."}`` for the accounts service.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import requests
from aiohttp import web
from sqlite_utils import Database

from adapters.spotify.auth import SCOPES, token_path, write_private_json
from adapters.spotify.client import SpotifyOptions
from adapters.spotify.resilience import RetryPolicy
from adapters.storage.spotify_cache import SpotifyCache
from bot.config import Settings, load_settings
from core.mood import Analysis, ImageReading, MoodPoint, Reading, TextReading
from core.reply import PlaylistCard
from core.tracks import Track

API = "/v1"
LIBRARY_MAX_URIS = 40  # DELETE /me/library
ITEMS_MAX_URIS = 100  # POST / PUT /playlists/{id}/items
_URI = re.compile(r"^spotify:(track|album|episode|show|audiobook|user|playlist):[A-Za-z0-9]+$")
# Endpoints removed for development-mode apps in February 2026 (a selection: the ones a
# playlist bot could reach for); Spotify answers them 403 Forbidden.
REMOVED = (
    ("PUT", "/playlists/{id}/followers"),
    ("DELETE", "/playlists/{id}/followers"),
    ("GET", "/playlists/{id}/tracks"),
    ("POST", "/playlists/{id}/tracks"),
    ("PUT", "/playlists/{id}/tracks"),
    ("DELETE", "/playlists/{id}/tracks"),
    ("POST", "/users/{user_id}/playlists"),
    ("GET", "/users/{user_id}/playlists"),
    ("GET", "/tracks"),
    ("PUT", "/me/tracks"),
    ("DELETE", "/me/tracks"),
    ("PUT", "/me/following"),
    ("DELETE", "/me/following"),
)


@dataclass(frozen=True)
class Recorded:
    """One request the fake received."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    form: dict[str, str]
    headers: dict[str, str]
    at: float  # time.monotonic() when it arrived

    @property
    def authorization(self) -> str | None:
        return self.headers.get("Authorization")


@dataclass(frozen=True)
class Fault:
    """A scripted answer: an error status (with optional Retry-After), and/or a delay.

    ``status=None`` with a ``delay`` answers normally but late (to trigger read timeouts).
    ``acted=True`` does the work first and then answers ``status``: a 5xx that Spotify sent
    after it had created the playlist or added the items.
    """

    status: int | None = None
    delay: float = 0.0
    retry_after: int | None = None
    message: str = "scripted failure"
    acted: bool = False


def track_object(
    track_id: str,
    name: str = "Song",
    artists: tuple[str, ...] = ("Artist",),
    album: str = "Album",
    image_url: str | None = None,
    explicit: bool = False,
) -> dict[str, Any]:
    """A track object as the Web API returns it to a development-mode app: no
    ``available_markets``, ``popularity`` or ``linked_from`` (removed in February 2026);
    ``explicit`` is always there."""
    images = []
    if image_url:
        images = [
            {"url": image_url, "height": 640, "width": 640},
            {"url": image_url + "?300", "height": 300, "width": 300},
            {"url": image_url + "?64", "height": 64, "width": 64},
        ]
    return {
        "id": track_id,
        "name": name,
        "type": "track",
        "explicit": explicit,
        "uri": f"spotify:track:{track_id}",
        "artists": [{"name": a, "id": f"artist{i}"} for i, a in enumerate(artists)],
        "album": {"name": album, "images": images, "id": "album" + track_id},
        "external_urls": {"spotify": f"https://open.spotify.com/track/{track_id}"},
    }


@dataclass
class FakeState:
    client_id: str = field(default_factory=lambda: "cid" + secrets.token_hex(12))
    client_secret: str = field(default_factory=lambda: "csecret" + secrets.token_hex(12))
    expires_in: int = 3600
    app_tokens: set[str] = field(default_factory=set)
    user_tokens: set[str] = field(default_factory=set)
    refresh_tokens: set[str] = field(default_factory=set)
    scopes: dict[str, frozenset[str]] = field(default_factory=dict)  # user/refresh token
    codes: dict[str, tuple[str, str]] = field(default_factory=dict)  # code -> (uri, scope)
    tracks: dict[str, dict[str, Any]] = field(default_factory=dict)
    playable: dict[str, bool] = field(default_factory=dict)  # track id -> in the market
    playlists: dict[str, dict[str, Any]] = field(default_factory=dict)  # oldest first
    recommendations: list[dict[str, Any]] = field(default_factory=list)


class FakeSpotify:
    """The fake servers, their state, the requests they saw and scripted faults."""

    def __init__(self) -> None:
        self.state = FakeState()
        self.recorded: list[Recorded] = []
        self._scripts: dict[tuple[str, str], collections.deque[Fault]] = {}
        self._always: dict[tuple[str, str], Fault] = {}
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None
        self.port = 0

    # -- addresses ----------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_prefix(self) -> str:
        """What spotipy's ``prefix`` should be."""
        return f"{self.url}{API}/"

    @property
    def accounts_url(self) -> str:
        return self.url

    # -- test helpers --------------------------------------------------------------------

    def script(self, method: str, path: str, *faults: Fault) -> None:
        """Answer the next requests to ``method path`` with ``faults``, in order. ``path``
        is a request path or a route pattern such as ``/v1/playlists/{id}/items``."""
        with self._lock:
            self._scripts.setdefault((method, path), collections.deque()).extend(faults)

    def always(self, method: str, path: str, fault: Fault) -> None:
        """Answer every request to ``method path`` with ``fault``."""
        with self._lock:
            self._always[(method, path)] = fault

    def add_track(self, track_id: str, *, playable: bool = True, **kwargs: Any) -> dict[str, Any]:
        """A track; ``playable``: whether it plays in a requested market (``is_playable``)."""
        obj = track_object(track_id, **kwargs)
        self.state.tracks[track_id] = obj
        self.state.playable[track_id] = playable
        return obj

    def add_playlist(
        self, playlist_id: str, name: str = "AI DJ", description: str = "", public: bool = False
    ) -> dict[str, Any]:
        """A playlist the owner made earlier, in their library."""
        playlist = {
            "id": playlist_id,
            "name": name,
            "description": description,
            "public": public,
            "collaborative": False,
            "snapshot_id": "snap0",
            "external_urls": {"spotify": f"https://open.spotify.com/playlist/{playlist_id}"},
            "uri": f"spotify:playlist:{playlist_id}",
            "type": "playlist",
            "uris": [],  # its items (the fake's own bookkeeping, not a Web API field)
            "in_library": True,
        }
        self.state.playlists[playlist_id] = playlist
        return playlist

    def requests(self, method: str | None = None, prefix: str = "") -> list[Recorded]:
        with self._lock:
            return [
                r
                for r in self.recorded
                if (method is None or r.method == method) and r.path.startswith(prefix)
            ]

    def api_requests(self) -> list[Recorded]:
        """Web API requests only (not the token endpoint)."""
        return self.requests(prefix=API + "/")

    def issue_user_token(self, scopes: tuple[str, ...] = SCOPES) -> dict[str, Any]:
        """A token response as if the owner had logged in granting ``scopes`` (for tests
        that skip login)."""
        return self._user_token_response(frozenset(scopes), refresh=True)

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeSpotify:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, args=(ready,), daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("fake Spotify did not start")
        return self

    def stop(self) -> None:
        if self._loop is None or self._runner is None or self._thread is None:
            return
        asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def __enter__(self) -> FakeSpotify:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def __aenter__(self) -> FakeSpotify:
        return await asyncio.to_thread(self.start)

    async def __aexit__(self, *exc: object) -> None:
        await asyncio.to_thread(self.stop)

    def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.new_event_loop()
        asyncio.set_event_loop(self._loop)
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(
            [
                web.post("/api/token", self._token),
                web.get("/authorize", self._authorize),
                web.post(API + "/me/playlists", self._create_playlist),
                web.get(API + "/me/playlists", self._my_playlists),
                web.post(API + "/playlists/{id}/items", self._add_items),
                web.put(API + "/playlists/{id}/items", self._replace_items),
                web.delete(API + "/me/library", self._remove_from_library),
                web.get(API + "/tracks/{id}", self._track),
                web.get(API + "/recommendations", self._recommendations),
                *(web.route(method, API + path, self._removed) for method, path in REMOVED),
            ]
        )
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        self._loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        self._loop.run_until_complete(site.start())
        self.port = self._runner.addresses[0][1]
        ready.set()
        self._loop.run_forever()
        self._loop.close()

    # -- plumbing ------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Any) -> web.StreamResponse:
        body = await request.read()
        json_body: Any = None
        form: dict[str, str] = {}
        if body and request.content_type == "application/json":
            json_body = await request.json()
        elif body and request.content_type == "application/x-www-form-urlencoded":
            form = dict(await request.post())  # type: ignore[arg-type]
        with self._lock:
            self.recorded.append(
                Recorded(
                    method=request.method,
                    path=request.path,
                    query=dict(request.query),
                    json=json_body,
                    form=form,
                    headers=dict(request.headers),
                    at=time.monotonic(),
                )
            )
            fault = self._fault_for(request)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
            if fault.acted:
                await handler(request)
            if fault.status is not None:
                headers = {}
                if fault.retry_after is not None:
                    headers["Retry-After"] = str(fault.retry_after)
                return _api_error(fault.status, fault.message, headers)
        if request.path.startswith(API + "/"):
            token = _bearer(request)
            if token not in self.state.app_tokens | self.state.user_tokens:
                return _api_error(401, "Invalid access token")
            if request.path.startswith((API + "/me", API + "/playlists")) and (
                token not in self.state.user_tokens
            ):
                return _api_error(403, "This request needs a user token")
        return await handler(request)

    def _fault_for(self, request: web.Request) -> Fault | None:
        """The scripted answer for this request, by its path or else its route pattern."""
        resource = request.match_info.route.resource
        pattern = resource.canonical if resource is not None else request.path
        for key in ((request.method, request.path), (request.method, pattern)):
            queue = self._scripts.get(key)
            if queue:
                return queue.popleft()
        for key in ((request.method, request.path), (request.method, pattern)):
            if key in self._always:
                return self._always[key]
        return None

    # -- accounts ------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if query.get("client_id") != self.state.client_id:
            return web.Response(status=400, text="INVALID_CLIENT: Invalid client")
        code = "code" + secrets.token_hex(8)
        self.state.codes[code] = (query["redirect_uri"], query.get("scope", ""))
        params = {"code": code}
        if "state" in query:
            params["state"] = query["state"]
        raise web.HTTPFound(f"{query['redirect_uri']}?{urlencode(params)}")

    async def _token(self, request: web.Request) -> web.StreamResponse:
        expected = base64.b64encode(
            f"{self.state.client_id}:{self.state.client_secret}".encode()
        ).decode()
        if request.headers.get("Authorization") != f"Basic {expected}":
            return _oauth_error("invalid_client", "Invalid client")
        form = await request.post()
        grant = form.get("grant_type")
        if grant == "client_credentials":
            token = "app" + secrets.token_hex(16)
            self.state.app_tokens.add(token)
            return web.json_response(
                {"access_token": token, "token_type": "Bearer", "expires_in": 3600}
            )
        if grant == "authorization_code":
            redirect_uri, scope = self.state.codes.pop(str(form.get("code")), (None, ""))
            if redirect_uri is None or redirect_uri != form.get("redirect_uri"):
                return _oauth_error("invalid_grant", "Invalid authorization code")
            granted = frozenset(scope.split())
            return web.json_response(self._user_token_response(granted, refresh=True))
        if grant == "refresh_token":
            refresh_token = str(form.get("refresh_token"))
            if refresh_token not in self.state.refresh_tokens:
                return _oauth_error("invalid_grant", "Invalid refresh token")
            granted = self.state.scopes[refresh_token]
            return web.json_response(self._user_token_response(granted, refresh=False))
        return _oauth_error("unsupported_grant_type", "grant_type must be one of ...")

    def _user_token_response(self, scopes: frozenset[str], *, refresh: bool) -> dict[str, Any]:
        token = "user" + secrets.token_hex(16)
        self.state.user_tokens.add(token)
        self.state.scopes[token] = scopes
        response: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.state.expires_in,
            "scope": " ".join(sorted(scopes)),
        }
        if refresh:
            refresh_token = "refresh" + secrets.token_hex(16)
            self.state.refresh_tokens.add(refresh_token)
            self.state.scopes[refresh_token] = scopes
            response["refresh_token"] = refresh_token
        return response

    def _granted(self, request: web.Request) -> frozenset[str]:
        return self.state.scopes.get(_bearer(request) or "", frozenset())

    # -- Web API -------------------------------------------------------------------------

    async def _create_playlist(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body.get("name"):
            return _api_error(400, "Missing required field: name")
        public = body.get("public", True)  # Spotify's default
        if _modify_scope(public) not in self._granted(request):
            return _insufficient_scope()
        playlist_id = "pl" + secrets.token_hex(8)
        playlist = self.add_playlist(
            playlist_id, body["name"], body.get("description") or "", public=public
        )
        playlist["collaborative"] = body.get("collaborative", False)
        return web.json_response(_public(playlist), status=201)

    async def _my_playlists(self, request: web.Request) -> web.StreamResponse:
        """The owner's library, most recently added first; private playlists only with
        playlist-read-private."""
        limit = int(request.query.get("limit", "20"))
        offset = int(request.query.get("offset", "0"))
        if not 0 < limit <= 50 or offset < 0:
            return _api_error(400, "Invalid limit or offset")
        can_read_private = "playlist-read-private" in self._granted(request)
        mine = [
            p
            for p in reversed(self.state.playlists.values())
            if p["in_library"] and (p["public"] or can_read_private)
        ]
        page = mine[offset : offset + limit]
        return web.json_response(
            {
                "href": str(request.url),
                "items": [_public(p) for p in page],
                "limit": limit,
                "offset": offset,
                "total": len(mine),
                "next": None,
                "previous": None,
            }
        )

    async def _add_items(self, request: web.Request) -> web.StreamResponse:
        playlist = self.state.playlists.get(request.match_info["id"])
        if playlist is None:
            return _api_error(404, "Resource not found")
        if _modify_scope(playlist["public"]) not in self._granted(request):
            return _insufficient_scope()
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("uris"), list):
            return _api_error(400, "Body must be an object with 'uris'")
        if len(body["uris"]) > ITEMS_MAX_URIS:
            return _api_error(400, "Too many items")
        playlist["uris"].extend(body["uris"])
        return web.json_response({"snapshot_id": _snapshot(playlist)}, status=201)

    async def _replace_items(self, request: web.Request) -> web.StreamResponse:
        """Works on a playlist the owner removed from their library too: it still exists."""
        playlist = self.state.playlists.get(request.match_info["id"])
        if playlist is None:
            return _api_error(404, "Resource not found")
        if _modify_scope(playlist["public"]) not in self._granted(request):
            return _insufficient_scope()
        body = await request.json()
        if len(body["uris"]) > ITEMS_MAX_URIS:
            return _api_error(400, "Too many items")
        playlist["uris"] = list(body["uris"])
        return web.json_response({"snapshot_id": _snapshot(playlist)})

    async def _remove_from_library(self, request: web.Request) -> web.StreamResponse:
        """``DELETE /me/library?uris=``: 1 to 40 Spotify URIs; an item that is not in the
        library is no error."""
        uris = [u for u in request.query.get("uris", "").split(",") if u]
        if not uris:
            return _api_error(400, "Missing required parameter: uris")
        if len(uris) > LIBRARY_MAX_URIS:
            return _api_error(400, f"Too many URIs (at most {LIBRARY_MAX_URIS})")
        if not all(_URI.match(u) for u in uris):
            return _api_error(400, "Invalid URI")
        if "user-library-modify" not in self._granted(request):
            return _insufficient_scope()
        for uri in uris:
            kind, _, item_id = uri.removeprefix("spotify:").partition(":")
            if kind == "playlist" and item_id in self.state.playlists:
                self.state.playlists[item_id]["in_library"] = False
        return web.Response(status=200)

    async def _removed(self, request: web.Request) -> web.StreamResponse:
        return _api_error(403, "Forbidden")

    async def _track(self, request: web.Request) -> web.StreamResponse:
        """``is_playable`` only when a ``market`` was asked for (track relinking)."""
        track_id = request.match_info["id"]
        track = self.state.tracks.get(track_id)
        if track is None:
            return _api_error(404, "Resource not found")
        if "market" in request.query:
            track = {**track, "is_playable": self.state.playable.get(track_id, True)}
        return web.json_response(track)

    async def _recommendations(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        seeds = [s for s in query.get("seed_genres", "").split(",") if s]
        if not 1 <= len(seeds) <= 5:
            return _api_error(400, "Between 1 and 5 seeds required")
        limit = int(query.get("limit", "20"))
        tracks = self.state.recommendations[:limit]
        return web.json_response(
            {
                "tracks": tracks,
                "seeds": [
                    {"id": s, "type": "GENRE", "initialPoolSize": 500, "href": None} for s in seeds
                ],
            }
        )


def _public(playlist: dict[str, Any]) -> dict[str, Any]:
    """The playlist as the Web API shows it: the item count is ``items`` (no ``tracks``)."""
    shown = {k: v for k, v in playlist.items() if k not in ("uris", "in_library")}
    shown["items"] = {
        "href": f"https://api.spotify.com/v1/playlists/{playlist['id']}/items",
        "total": len(playlist["uris"]),
    }
    return shown


def _modify_scope(public: bool) -> str:
    return "playlist-modify-public" if public else "playlist-modify-private"


def _insufficient_scope() -> web.Response:
    return _api_error(403, "Insufficient client scope")


def _snapshot(playlist: dict[str, Any]) -> str:
    number = int(playlist["snapshot_id"].removeprefix("snap")) + 1
    playlist["snapshot_id"] = f"snap{number}"
    return playlist["snapshot_id"]


def _bearer(request: web.Request) -> str | None:
    value = request.headers.get("Authorization", "")
    return value.removeprefix("Bearer ") if value.startswith("Bearer ") else None


def _api_error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"error": {"status": status, "message": message}}, status=status, headers=headers
    )


def _oauth_error(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=400)


# -- helpers shared by the Spotify tests --------------------------------------------------


def spotify_db(path: str = ":memory:") -> Database:
    """A database with the two Spotify tables exactly as the storage migrations make them."""
    db = Database(sqlite3.connect(path, check_same_thread=False))
    db.execute(
        "create table if not exists spotify_tracks (track_id text primary key, "
        "album_art_url text, available integer, fetched_at text)"
    )
    db.execute(
        "create table if not exists spotify_playlists (request_id integer primary key, "
        "playlist_id text, url text, created_at text, deleted_at text)"
    )
    return db


def cache_for(db: Database) -> SpotifyCache:
    """The Spotify cache over ``db``, its queries run right away on the caller's thread (as
    the storage gateway runs them on its own)."""
    return SpotifyCache(db, lambda work: work())


def catalog_track(track_id: str, valence: float = 0.3, energy: float = 0.3) -> Track:
    return Track(
        id=track_id,
        name=f"Song {track_id}",
        artists=("Artist",),
        valence=valence,
        energy=energy,
        popularity=40,
        genres=("acoustic",),
        album="Album",
    )


def sample_card(
    request_id: int = 1,
    track_ids: tuple[str, ...] = ("t1", "t2", "t3"),
    *,
    language: str = "en",
    target: MoodPoint | None = None,
    round_number: int = 0,
) -> PlaylistCard:
    """A rainy-day card: base 0.25/0.30, final 0.31/0.22, scene confidence 87%."""
    analysis = Analysis(
        reading=Reading(
            image=ImageReading("rainy_day", 0.87, {"rainy_day": 0.87, "cozy_cafe": 0.13}),
            text=TextReading.neutral(),
        ),
        base=MoodPoint(0.25, 0.30),
        final=MoodPoint(0.31, 0.22),
        seed_genres=("acoustic", "sad", "indie-poptimism", "piano"),
        base_source="anchors",
    )
    return PlaylistCard(
        request_id=request_id,
        language=language,
        analysis=analysis,
        target=target or analysis.final,
        tracks=tuple(catalog_track(t) for t in track_ids),
        delta_max=0.3,
        round=round_number,
    )


def options_for(fake: FakeSpotify, **policy: Any) -> SpotifyOptions:
    """Options pointing at ``fake``, with short timeouts and backoff waits that return at
    once (pass ``sleep=`` to see or really do them)."""
    values: dict[str, Any] = {
        "max_retries": 2,
        "backoff_s": 0.01,
        "retry_after_cap_s": 2.0,
        "sleep": lambda seconds: None,
    }
    values.update(policy)
    return SpotifyOptions(
        api_prefix=fake.api_prefix,
        accounts_url=fake.accounts_url,
        requests_timeout=0.3,
        policy=RetryPolicy(**values),
    )


def settings_for(fake: FakeSpotify, config_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "spotify_client_id": fake.state.client_id,
        "spotify_client_secret": fake.state.client_secret,
        "config_dir": config_dir,
    }
    values.update(overrides)
    return load_settings({}, dotenv=False, **values)


def log_in(
    fake: FakeSpotify,
    config_dir: Path,
    expires_in: int = 3600,
    scopes: tuple[str, ...] = SCOPES,
) -> dict[str, Any]:
    """Store an owner token as `aidj spotify login` would (skipping the browser); pass
    ``scopes`` to stand for a login made by an older AI DJ that asked for less."""
    token = fake.issue_user_token(scopes)
    token["expires_at"] = int(time.time()) + expires_in
    write_private_json(token_path(config_dir), token)
    return token


def browser(authorize_url: str) -> str:
    """What the owner's browser does: open the authorize URL, get sent to the redirect."""
    response = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert response.status_code == 302
    return response.headers["Location"]


def authorize_url_in(text: str) -> str:
    """The authorize URL in what `aidj spotify login` printed."""
    return next(word for word in text.split() if "/authorize?" in word)
