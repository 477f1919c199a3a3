"""An in-process fake of the Spotify Web API and the accounts (token) service.

Why a real HTTP server rather than mocks: spotipy and requests then run unmodified, so the
tests check the exact requests that would go over the wire (method, path, JSON body,
Authorization header) and the real error paths (status codes, Retry-After, read timeouts).

The server runs on 127.0.0.1 (random free port) in its own thread and event loop, so both
synchronous code (spotipy called directly) and async code (the ``asyncio.to_thread`` facade)
can talk to it. Use it as ``with FakeSpotify() as fake`` or ``async with FakeSpotify()``.

Response shapes follow Spotify's Web API reference; errors are
``{"error": {"status": N, "message": "..."}}`` for the Web API and
``{"error": "...", "error_description": "..."}`` for the accounts service.
"""

from __future__ import annotations

import asyncio
import base64
import collections
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
from bot.config import Settings, load_settings
from core.mood import Analysis, ImageReading, MoodPoint, Reading, TextReading
from core.reply import PlaylistCard
from core.tracks import Track

API = "/v1"


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
    """

    status: int | None = None
    delay: float = 0.0
    retry_after: int | None = None
    message: str = "scripted failure"


def track_object(
    track_id: str,
    name: str = "Song",
    artists: tuple[str, ...] = ("Artist",),
    album: str = "Album",
    image_url: str | None = None,
    playable: bool = True,
    popularity: int = 50,
) -> dict[str, Any]:
    """A track object as the Web API returns it."""
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
        "uri": f"spotify:track:{track_id}",
        "artists": [{"name": a, "id": f"artist{i}"} for i, a in enumerate(artists)],
        "album": {"name": album, "images": images, "id": "album" + track_id},
        "is_playable": playable,
        "available_markets": ["US", "KR"] if playable else [],
        "popularity": popularity,
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
    codes: dict[str, str] = field(default_factory=dict)  # code -> redirect_uri
    tracks: dict[str, dict[str, Any]] = field(default_factory=dict)
    playlists: dict[str, dict[str, Any]] = field(default_factory=dict)
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
        """Answer the next requests to ``method path`` with ``faults``, in order."""
        with self._lock:
            self._scripts.setdefault((method, path), collections.deque()).extend(faults)

    def always(self, method: str, path: str, fault: Fault) -> None:
        """Answer every request to ``method path`` with ``fault``."""
        with self._lock:
            self._always[(method, path)] = fault

    def add_track(self, track_id: str, **kwargs: Any) -> dict[str, Any]:
        obj = track_object(track_id, **kwargs)
        self.state.tracks[track_id] = obj
        return obj

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

    def issue_user_token(self) -> dict[str, Any]:
        """A token response as if the owner had logged in (for tests that skip login)."""
        return self._user_token_response(refresh=True)

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
                web.post(API + "/playlists/{id}/items", self._add_items),
                web.put(API + "/playlists/{id}/items", self._replace_items),
                web.delete(API + "/playlists/{id}/followers", self._unfollow),
                web.get(API + "/tracks/{id}", self._track),
                web.get(API + "/recommendations", self._recommendations),
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
            key = (request.method, request.path)
            queue = self._scripts.get(key)
            fault = queue.popleft() if queue else self._always.get(key)
        if fault is not None:
            if fault.delay:
                await asyncio.sleep(fault.delay)
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

    # -- accounts ------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        if query.get("client_id") != self.state.client_id:
            return web.Response(status=400, text="INVALID_CLIENT: Invalid client")
        code = "code" + secrets.token_hex(8)
        self.state.codes[code] = query["redirect_uri"]
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
            code = str(form.get("code"))
            if self.state.codes.pop(code, None) != form.get("redirect_uri"):
                return _oauth_error("invalid_grant", "Invalid authorization code")
            return web.json_response(self._user_token_response(refresh=True))
        if grant == "refresh_token":
            if form.get("refresh_token") not in self.state.refresh_tokens:
                return _oauth_error("invalid_grant", "Invalid refresh token")
            return web.json_response(self._user_token_response(refresh=False))
        return _oauth_error("unsupported_grant_type", "grant_type must be one of ...")

    def _user_token_response(self, *, refresh: bool) -> dict[str, Any]:
        token = "user" + secrets.token_hex(16)
        self.state.user_tokens.add(token)
        response: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.state.expires_in,
            "scope": "playlist-modify-private playlist-modify-public",
        }
        if refresh:
            refresh_token = "refresh" + secrets.token_hex(16)
            self.state.refresh_tokens.add(refresh_token)
            response["refresh_token"] = refresh_token
        return response

    # -- Web API -------------------------------------------------------------------------

    async def _create_playlist(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if not body.get("name"):
            return _api_error(400, "Missing required field: name")
        playlist_id = "pl" + secrets.token_hex(8)
        playlist = {
            "id": playlist_id,
            "name": body["name"],
            "description": body.get("description"),
            "public": body.get("public", True),
            "collaborative": body.get("collaborative", False),
            "snapshot_id": "snap0",
            "external_urls": {"spotify": f"https://open.spotify.com/playlist/{playlist_id}"},
            "uri": f"spotify:playlist:{playlist_id}",
            "tracks": {"total": 0},
            "items": [],
            "followed": True,
        }
        self.state.playlists[playlist_id] = playlist
        return web.json_response(_public(playlist), status=201)

    async def _add_items(self, request: web.Request) -> web.StreamResponse:
        playlist = self.state.playlists.get(request.match_info["id"])
        if playlist is None:
            return _api_error(404, "Resource not found")
        body = await request.json()
        if not isinstance(body, dict) or not isinstance(body.get("uris"), list):
            return _api_error(400, "Body must be an object with 'uris'")
        playlist["items"].extend(body["uris"])
        return web.json_response({"snapshot_id": _snapshot(playlist)}, status=201)

    async def _replace_items(self, request: web.Request) -> web.StreamResponse:
        playlist = self.state.playlists.get(request.match_info["id"])
        if playlist is None or not playlist["followed"]:
            return _api_error(404, "Resource not found")
        body = await request.json()
        playlist["items"] = list(body["uris"])
        return web.json_response({"snapshot_id": _snapshot(playlist)})

    async def _unfollow(self, request: web.Request) -> web.StreamResponse:
        playlist = self.state.playlists.get(request.match_info["id"])
        if playlist is None:
            return _api_error(404, "Resource not found")
        playlist["followed"] = False
        return web.Response(status=200)

    async def _track(self, request: web.Request) -> web.StreamResponse:
        track = self.state.tracks.get(request.match_info["id"])
        if track is None:
            return _api_error(404, "Resource not found")
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
    return {k: v for k, v in playlist.items() if k not in ("items", "followed")}


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
    """Options pointing at ``fake``, with short timeouts and near-zero backoff."""
    values: dict[str, Any] = {"max_retries": 2, "backoff_s": 0.01, "retry_after_cap_s": 2.0}
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


def log_in(fake: FakeSpotify, config_dir: Path, expires_in: int = 3600) -> dict[str, Any]:
    """Store an owner token as `aidj spotify login` would (skipping the browser)."""
    token = fake.issue_user_token()
    token["expires_at"] = int(time.time()) + expires_in
    token["scope"] = " ".join(sorted(SCOPES))
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
