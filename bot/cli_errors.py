"""How every `aidj` command fails: one readable line on stderr and exit code 1.

An ``AIDJError`` carries a message meant for the user; SQLite giving up on a lock becomes
one (``DatabaseBusyError``); any other SQLite error is named as a database error. No
traceback reaches the user.
"""

from __future__ import annotations

import argparse
import functools
import sqlite3
import sys
from collections.abc import Callable

from core.errors import AIDJError

Handler = Callable[[argparse.Namespace], int]

EXIT_DATA = 1
EXIT_USAGE = 2


def usage(parser: argparse.ArgumentParser) -> Handler:
    """The handler of a command group called without a command: its help, exit code 2."""

    def handler(args: argparse.Namespace) -> int:
        parser.print_help(sys.stderr)
        return EXIT_USAGE

    return handler


def user_errors(handler: Handler) -> Handler:
    """``handler``, with its failures told in one line on stderr (exit code 1)."""

    @functools.wraps(handler)
    def wrapped(args: argparse.Namespace) -> int:
        from adapters.storage.database import busy_as_user_error

        try:
            with busy_as_user_error():
                return handler(args)
        except AIDJError as error:
            print(f"aidj: {error}", file=sys.stderr)
            return EXIT_DATA
        except sqlite3.Error as error:  # a broken or unwritable file, a full disk, ...
            print(f"aidj: database error: {error}", file=sys.stderr)
            return EXIT_DATA

    return wrapped
