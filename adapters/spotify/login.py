"""`aidj spotify login`: the owner's one-time OAuth authorization-code flow.

Runs on the owner's machine, once. It prints the authorize URL, then either catches the
browser's redirect with a tiny local server on the redirect URI's port (when that URI is a
loopback http address) or takes the redirected URL pasted back. The code is exchanged for
tokens, which ``TokenFile`` stores 0600 in the config folder. A random ``state`` guards
against a forged redirect. It asks for every scope AI DJ uses (``auth.SCOPES``), so running it
again is also how an older login gains the ones added since.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import urlparse

import requests
from spotipy.oauth2 import SpotifyOAuth

from adapters.spotify.auth import TokenFile, owner_oauth
from adapters.spotify.client import Credentials, SpotifyOptions
from adapters.spotify.logs import guard_spotipy_logs

_LOOPBACK = ("127.0.0.1", "localhost", "::1")
_DONE_PAGE = (
    b"<!doctype html><meta charset=utf-8><title>AI DJ</title>"
    b"<p>AI DJ is connected to Spotify. You can close this tab.</p>"
)


class LoginError(Exception):
    """The login did not complete; the message is safe to show (no codes or tokens)."""


def can_listen(redirect_uri: str) -> bool:
    """Whether a local server can receive the redirect (loopback http with a port)."""
    parsed = urlparse(redirect_uri)
    return parsed.scheme == "http" and parsed.hostname in _LOOPBACK and parsed.port is not None


def login(
    credentials: Credentials,
    token_file: TokenFile,
    options: SpotifyOptions,
    *,
    paste: bool = False,
    timeout_s: float = 300.0,
    read_line: Callable[[str], str] | None = None,
    say: Callable[[str], None] = print,
) -> None:
    """Authorize the app for the owner's account and save the tokens to ``token_file``.

    ``read_line`` (default ``input``) takes the pasted address."""
    read_line = read_line or input
    guard_spotipy_logs(credentials.client_id, credentials.client_secret)
    state = secrets.token_urlsafe(16)
    oauth = owner_oauth(
        credentials.client_id,
        credentials.client_secret,
        credentials.redirect_uri,
        token_file,
        accounts_url=options.accounts_url,
        requests_timeout=max(options.requests_timeout, 10.0),
        session=requests.Session(),
        state=state,
    )
    say(
        "Open this address in a browser, log in as the bot's owner and allow access:\n\n"
        f"  {oauth.get_authorize_url()}\n"
    )
    if not paste and can_listen(credentials.redirect_uri):
        say(
            f"Waiting up to {timeout_s:.0f} s for the redirect to {credentials.redirect_uri}"
            " (browser on another machine? rerun with --paste) ..."
        )
        try:
            redirected = wait_for_redirect(credentials.redirect_uri, timeout_s)
        except OSError as error:  # port taken, say: fall back to pasting
            say(f"Cannot listen on {credentials.redirect_uri} ({error.strerror}).")
            redirected = read_line("Paste the address your browser was sent to: ")
    else:
        redirected = read_line("Paste the address your browser was sent to: ")
    returned_state, code = SpotifyOAuth.parse_auth_response_url(redirected.strip())
    if returned_state != state:
        raise LoginError("that address is not from this login (state mismatch); try again")
    if not code:
        raise LoginError("that address carries no authorization code; try again")
    oauth.get_access_token(code, as_dict=False, check_cache=False)
    if not token_file.has_login():
        raise LoginError(f"Spotify answered, but the token could not be saved to {token_file.path}")


def wait_for_redirect(redirect_uri: str, timeout_s: float) -> str:
    """Serve the redirect URI's path once on its loopback port; the URL the browser hit."""
    parsed = urlparse(redirect_uri)
    expected_path = parsed.path or "/"
    result: list[str] = []

    class Callback(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = urlparse(self.path)
            if path.path != expected_path:
                self.send_error(404)
                return
            result.append(f"{parsed.scheme}://{parsed.netloc}{self.path}")
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.end_headers()
            self.wfile.write(_DONE_PAGE)

        def log_message(self, format: str, *args: object) -> None:
            """Silent: the request line carries the authorization code."""

    with HTTPServer((parsed.hostname or "127.0.0.1", parsed.port or 80), Callback) as server:
        server.timeout = 0.25
        deadline = time.monotonic() + timeout_s
        while not result and time.monotonic() < deadline:
            server.handle_request()
    if not result:
        raise LoginError(f"no redirect within {timeout_s:.0f} s; rerun with --paste")
    return result[0]
