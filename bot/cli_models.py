"""`aidj models download`: fetch both configured models ahead of the first run.

Into the Hugging Face cache (where `aidj run` finds them by id, also offline), or with
``--to DIR`` into ``DIR/clip`` and ``DIR/nli`` (then the settings point at those folders).
A bar per file on a terminal, a log line per file otherwise; at the end, what to set to run
without the network.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from bot import cli_serve
from bot.cli_errors import usage, user_errors


def register(subparsers: argparse._SubParsersAction) -> None:
    models = subparsers.add_parser("models", help="the CLIP and NLI models")
    models.set_defaults(handler=usage(models))
    commands = models.add_subparsers(title="models commands", metavar="COMMAND")
    download = commands.add_parser(
        "download",
        help="fetch both configured models now (about 1.7 GB for the defaults)",
        description="Fetch the configured CLIP and NLI models from the Hugging Face hub "
        "(HF_ENDPOINT, HF_TOKEN and HF_HOME apply) into its cache, or into DIR.",
    )
    download.add_argument("--to", type=Path, metavar="DIR", help="into DIR/clip and DIR/nli")
    download.add_argument("--clip-model", help="CLIP model id (AIDJ_CLIP_MODEL)")
    download.add_argument("--nli-model", help="NLI model id (AIDJ_NLI_MODEL)")
    download.set_defaults(handler=user_errors(run_download))
    cli_serve.register(commands)


def run_download(args: argparse.Namespace) -> int:
    from adapters.models.hub import download_model
    from bot.config import load_settings
    from bot.models import default_progress, model_refs

    settings = load_settings(clip_model=args.clip_model, nli_model=args.nli_model)
    progress = default_progress()
    folders: dict[str, Path] = {}
    for ref in model_refs(settings):
        if ref.is_local:
            if not (Path(ref.model).expanduser() / "config.json").is_file():
                print(f"aidj: {ref.env_var} names {ref.model}: no model there", file=sys.stderr)
                return 1
            print(f"{ref.kind}: {ref.model} is a local folder; nothing to download")
            continue
        target = args.to / ref.kind.lower() if args.to is not None else None
        folders[ref.env_var] = download_model(ref, progress, local_dir=target)
    if args.to is not None and folders:
        print("Done. To use these copies, set:")
        for env_var, folder in folders.items():
            print(f"  {env_var}={folder.resolve()}")
    elif folders:
        print("Done: the models are in the Hugging Face cache, where `aidj run` finds them.")
        print("To run without the network, set HF_HUB_OFFLINE=1.")
    return 0
