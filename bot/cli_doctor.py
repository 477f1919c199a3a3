"""`aidj doctor`: one line per check, with the fix; exit 1 when something needed is missing.

By default it checks what `aidj run` needs; ``--cli`` checks what the one-shot commands
(`aidj recommend`, `aidj analyze`) need, so no chat token is asked for.
"""

from __future__ import annotations

import argparse
import os
import sys

from core.errors import ConfigError


def register(subparsers: argparse._SubParsersAction) -> None:
    doctor = subparsers.add_parser(
        "doctor", help="check that everything `aidj run` needs is in place, and say how to fix it"
    )
    doctor.add_argument(
        "--cli", action="store_true", help="check for the one-shot commands (no chat tokens)"
    )
    doctor.set_defaults(handler=run_doctor)


def run_doctor(args: argparse.Namespace) -> int:
    from bot.config import load_settings
    from bot.doctor import FAIL, Context, Finding, run_checks

    try:
        settings = load_settings()  # reads .env into the environment, too
    except ConfigError as error:
        print(Finding(FAIL, "settings", str(error), "fix that variable").line())
        return 1
    findings = run_checks(Context(settings, bots=not args.cli, environ=dict(os.environ)))
    for finding in findings:
        print(finding.line())
    failed = [f for f in findings if f.status == FAIL]
    what = "`aidj run`" if not args.cli else "the one-shot commands"
    if failed:
        print(f"{len(failed)} problem(s) to fix before {what} can work.", file=sys.stderr)
        return 1
    print(f"Ready for {what}.")
    return 0
