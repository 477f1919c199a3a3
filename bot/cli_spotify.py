"""`aidj spotify login` and `aidj spotify cleanup`: the owner's Spotify chores.

Spotify is optional; these commands only matter when SPOTIFY_CLIENT_ID and
SPOTIFY_CLIENT_SECRET are set. ``register`` adds them to the main parser; each handler
takes the parsed arguments and returns an exit code. Failure messages name what went
wrong (a status, an OAuth error code) and never a token.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.cli_errors import usage
from bot.config import load_settings
from core.errors import ConfigError

if TYPE_CHECKING:
    from adapters.spotify.client import SpotifyOptions
    from adapters.storage.gateway import Storage


def register(subparsers: argparse._SubParsersAction) -> None:
    spotify = subparsers.add_parser("spotify", help="optional Spotify playlists: login, cleanup")
    commands = spotify.add_subparsers(title="spotify commands", metavar="SUBCOMMAND")
    spotify.set_defaults(handler=usage(spotify))

    login = commands.add_parser(
        "login", help="authorize AI DJ to make playlists in your account (once)"
    )
    login.add_argument(
        "--paste",
        action="store_true",
        help="paste the redirected address instead of catching it with a local server",
    )
    login.add_argument(
        "--timeout", type=float, default=300.0, help="seconds to wait for the redirect"
    )
    _add_endpoint_overrides(login)
    login.set_defaults(handler=run_login)

    cleanup = commands.add_parser(
        "cleanup", help="remove AI DJ playlists older than some days from your library"
    )
    cleanup.add_argument("--older-than", type=int, required=True, metavar="DAYS")
    cleanup.add_argument("--db", type=Path, help="database file (default: AIDJ_DB)")
    _add_endpoint_overrides(cleanup)
    cleanup.set_defaults(handler=run_cleanup)


def _add_endpoint_overrides(parser: argparse.ArgumentParser) -> None:
    """Hidden: point at a fake Spotify (tests) instead of the real one."""
    parser.add_argument("--api-url", help=argparse.SUPPRESS)
    parser.add_argument("--accounts-url", help=argparse.SUPPRESS)


def _options(args: argparse.Namespace) -> SpotifyOptions:
    from adapters.spotify.client import SpotifyOptions

    defaults = SpotifyOptions()
    return SpotifyOptions(
        api_prefix=args.api_url or defaults.api_prefix,
        accounts_url=args.accounts_url or defaults.accounts_url,
    )


def run_login(args: argparse.Namespace) -> int:
    import requests
    from spotipy.exceptions import SpotifyOauthError

    from adapters.spotify.auth import TokenFile, token_path
    from adapters.spotify.client import credentials_from
    from adapters.spotify.login import LoginError, login
    from adapters.spotify.resilience import describe

    settings = load_settings()
    credentials = credentials_from(settings)
    if credentials is None:
        raise ConfigError(
            "set SPOTIFY_CLIENT_ID and SPOTIFY_CLIENT_SECRET first "
            "(from your app at developer.spotify.com)"
        )
    token_file = TokenFile(token_path(settings.config_dir))
    print(f"The app's redirect URI must be exactly: {credentials.redirect_uri}")
    try:
        login(credentials, token_file, _options(args), paste=args.paste, timeout_s=args.timeout)
    except LoginError as error:
        print(f"aidj: Spotify login failed: {error}", file=sys.stderr)
        return 1
    except (SpotifyOauthError, requests.RequestException) as error:
        print(f"aidj: Spotify login failed: {describe(error)}", file=sys.stderr)
        return 1
    print(f"Logged in. The token is in {token_file.path} (readable only by you).")
    print("Restart the bot to turn playlists on.")
    return 0


def run_cleanup(args: argparse.Namespace) -> int:
    from adapters.spotify.auth import CLEANUP_SCOPES, TokenFile, token_path
    from adapters.spotify.client import credentials_from, user_client
    from adapters.spotify.playlists import PlaylistMaker

    if args.older_than < 0:
        print("aidj: --older-than must be 0 or more days", file=sys.stderr)
        return 2
    settings = load_settings(db_path=args.db)
    credentials = credentials_from(settings)
    if credentials is None:
        raise ConfigError("Spotify is not configured (SPOTIFY_CLIENT_ID, SPOTIFY_CLIENT_SECRET)")
    token_file = TokenFile(token_path(settings.config_dir))
    if not token_file.has_login():
        raise ConfigError("no Spotify login yet; run `aidj spotify login` first")
    missing = token_file.missing(CLEANUP_SCOPES)
    if missing:
        raise ConfigError(
            f"the Spotify login predates the permission cleanup needs ({', '.join(missing)}); "
            "run `aidj spotify login` again"
        )
    options = _options(args)
    storage = open_storage(settings.db_path)
    try:
        client = user_client(credentials, token_file, options, scopes=CLEANUP_SCOPES)
        maker = PlaylistMaker(client, storage.spotify, policy=options.policy)
        result = maker.cleanup(timedelta(days=args.older_than))
    finally:
        storage.close()
    print(f"Removed {result.removed} playlist(s) older than {args.older_than} day(s).")
    if result.failed and result.refused:
        print(
            f"aidj: {result.failed} left: Spotify refused to remove them ({result.reason})",
            file=sys.stderr,
        )
        return 1
    if result.failed:
        print(
            f"aidj: {result.failed} left for a later run: Spotify is unavailable now "
            f"({result.reason})",
            file=sys.stderr,
        )
        return 1
    return 0


def open_storage(path: Path) -> Storage:
    """The app database (with its spotify_playlists table) behind its gateway."""
    from adapters.storage.gateway import Storage

    return Storage.open(path)
