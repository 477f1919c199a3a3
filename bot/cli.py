"""The `aidj` command line: analyze, recommend, regenerate, run the bots, manage data.

Every user-facing failure (a bad photo, a missing model, an empty catalog, a database
another program keeps locked) ends as one readable line on stderr with exit code 1
(``cli_errors``); argparse usage errors exit with 2. No traceback reaches the user, also
not when the output goes to a pipe that closes early (``aidj analyze ... | head``).
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import getpass
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from bot import cli_catalog, cli_doctor, cli_eval, cli_models, cli_spotify, cli_stats
from bot.cli_errors import EXIT_DATA, user_errors
from bot.config import Settings, load_settings
from core.mood import Analysis, AxisReading, Destination
from core.reply import PlaylistCard
from core.steering import Action


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        try:
            args = parser.parse_args(argv)
            if not hasattr(args, "handler"):
                parser.print_help()
                return 2
            return user_errors(args.handler)(args)
        finally:
            sys.stdout.flush()  # so a closed pipe shows here, not in Python's flush at exit
    except BrokenPipeError:
        # The reader went away (`| head`). As the signal module's docs advise: point stdout
        # at devnull so the flush at exit cannot fail again, and end quietly.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_DATA
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="aidj", description="AI DJ: music that fits a photo and a caption."
    )
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    analyze = commands.add_parser("analyze", help="read a photo and a caption, print the mood")
    _add_photo_arguments(analyze)
    analyze.set_defaults(handler=run_analyze)

    recommend = commands.add_parser(
        "recommend", help="the whole path: mood, then tracks from the catalog"
    )
    _add_photo_arguments(recommend)
    recommend.add_argument("--n", type=int, default=None, help="how many tracks (default 10)")
    recommend.add_argument("--plane", type=Path, help="also save the mood-plane picture here")
    recommend.add_argument(
        "--journey",
        choices=[d.value for d in Destination],
        help="songs that move from the photo's mood toward this destination",
    )
    recommend.set_defaults(handler=run_recommend)

    again = commands.add_parser(
        "regenerate", help="ten new tracks for an earlier request, optionally nudged"
    )
    again.add_argument("request_id", type=int)
    again.add_argument(
        "--action",
        choices=[a.value for a in Action],
        default=Action.REGENERATE.value,
        help="regenerate (default) or nudge: more_energy, calmer, happier, sadder",
    )
    again.add_argument("--json", action="store_true", help="print one JSON object")
    again.add_argument("--db", type=Path, help="database file (default: AIDJ_DB)")
    again.set_defaults(handler=run_regenerate)

    run = commands.add_parser("run", help="start the chat bots that have tokens")
    run.set_defaults(handler=run_bots)

    cli_catalog.register(commands)
    cli_eval.register(commands)
    cli_spotify.register(commands)
    cli_models.register(commands)
    cli_doctor.register(commands)
    cli_stats.register(commands)
    return parser


def _add_photo_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("photo", type=Path, help="a JPEG, PNG, WebP or GIF file")
    parser.add_argument("caption", nargs="?", default="", help="how you feel (optional)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    parser.add_argument("--clip-model", help="CLIP model id or local path (AIDJ_CLIP_MODEL)")
    parser.add_argument("--nli-model", help="NLI model id or local path (AIDJ_NLI_MODEL)")
    parser.add_argument("--db", type=Path, help="database file (default: AIDJ_DB)")


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(
        clip_model=getattr(args, "clip_model", None),
        nli_model=getattr(args, "nli_model", None),
        db_path=getattr(args, "db", None),
    )


def read_photo(path: Path) -> bytes:
    from core.errors import InputFileError

    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise InputFileError(f"no such file: {path}") from None
    except IsADirectoryError:
        raise InputFileError(f"{path} is a folder, not a photo") from None
    except OSError as error:
        raise InputFileError(f"cannot read {path}: {error.strerror}") from None


# ---------------------------------------------------------------- analyze


def run_analyze(args: argparse.Namespace) -> int:
    from bot.wiring import service_context

    settings = settings_from(args)
    photo = read_photo(args.photo)

    async def go() -> Analysis:
        async with service_context(settings, with_models=True, worker=False, plane=False) as svc:
            # argv may hold lone surrogates (bytes that are not UTF-8): the flow normalises
            return await svc.read(photo, args.caption)

    analysis = asyncio.run(go())
    if args.json:
        print(json.dumps(analysis.to_json(), ensure_ascii=False, indent=2))
    else:
        print("\n".join(describe_analysis(analysis)))
    return 0


def describe_analysis(analysis: Analysis) -> list[str]:
    """The human form of `aidj analyze`: scene, base, each caption axis, final."""
    from core.categories import get_category

    image = analysis.reading.image
    category = get_category(image.category_id)
    text = analysis.reading.text
    return [
        f"Scene:   {category.name_en} / {category.name_ko} ({image.category_id}) "
        f"{image.confidence:.1%}",
        f"Base:    valence {analysis.base.valence:.2f}  energy {analysis.base.energy:.2f}"
        f"  (from {analysis.base_source})",
        f"Caption: valence {_axis(text.valence)}",
        f"         energy  {_axis(text.energy)}",
        f"Final:   valence {analysis.final.valence:.2f}  energy {analysis.final.energy:.2f}",
    ]


def _axis(axis: AxisReading) -> str:
    return f"{axis.label} {axis.confidence:.3f} (direction {axis.direction:+d})"


# ---------------------------------------------------------------- recommend / regenerate


def run_recommend(args: argparse.Namespace) -> int:
    from bot.wiring import service_context
    from core.flow import PhotoRequest

    settings = settings_from(args)
    if args.n is not None:
        if not 1 <= args.n <= 50:
            print("aidj: --n must be between 1 and 50", file=sys.stderr)
            return 2
        settings = dataclasses.replace(settings, recommend_count=args.n)
    photo = read_photo(args.photo)
    request = PhotoRequest(
        platform="cli",
        chat_id="cli",
        user_id=getpass.getuser(),
        image=photo,
        caption=args.caption,
        journey=Destination(args.journey) if args.journey else None,
    )

    async def go() -> PlaylistCard:
        plane = args.plane is not None
        async with service_context(settings, with_models=True, worker=False, plane=plane) as svc:
            return await svc.recommend(request)

    card = asyncio.run(go())
    if args.plane is not None and card.plane_png:
        args.plane.write_bytes(card.plane_png)
    _print_card(card, as_json=args.json)
    return 0


def run_regenerate(args: argparse.Namespace) -> int:
    from bot.wiring import service_context

    settings = settings_from(args)

    async def go() -> PlaylistCard:
        async with service_context(settings, with_models=False, worker=False, plane=False) as svc:
            return await svc.steer_as_owner(args.request_id, Action(args.action))

    _print_card(asyncio.run(go()), as_json=args.json)
    return 0


def _print_card(card: PlaylistCard, *, as_json: bool) -> None:
    from bot.card_text import card_json, card_lines

    if as_json:
        print(json.dumps(card_json(card), ensure_ascii=False, indent=2))
    else:
        print("\n".join(card_lines(card)))


# ---------------------------------------------------------------- run


def run_bots(args: argparse.Namespace) -> int:
    from bot.run import run_forever

    return asyncio.run(run_forever(load_settings()))


if __name__ == "__main__":
    raise SystemExit(main())
