"""Model downloads against a fake hub on 127.0.0.1 (``tests.fake_hub``) serving the tiny
models: the real ``huggingface_hub`` client fetches them, then they load with the hub gone."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from adapters.models.analyzer import MoodAnalyzer
from adapters.models.download_progress import LineProgress, human_size
from adapters.models.hub import (
    HubFile,
    HubOptions,
    ModelRef,
    cached_model,
    download_model,
    select_files,
)
from bot.config import Settings, load_settings
from bot.models import prepare
from core.categories import CATEGORY_BY_ID
from core.errors import ModelLoadError
from tests.conftest import REPO, make_photo
from tests.fake_hub import FakeHub

CLIP_ID, NLI_ID = "tiny/clip", "tiny/nli"


@pytest.fixture
def hub(tiny_models):
    with FakeHub({CLIP_ID: tiny_models.clip, NLI_ID: tiny_models.nli}) as running:
        yield running


def hub_settings(tmp_path: Path, clip: str = CLIP_ID, nli: str = NLI_ID) -> Settings:
    return load_settings(
        {}, dotenv=False, clip_model=clip, nli_model=nli, db_path=tmp_path / "db", torch_threads=1
    )


def nli_ref(model: str = NLI_ID) -> ModelRef:
    return ModelRef("NLI", model, "AIDJ_NLI_MODEL", "--nli-model")


def test_a_missing_model_is_downloaded_with_progress_then_loads_with_the_hub_gone(
    hub, tmp_path
) -> None:
    options = HubOptions(endpoint=hub.url, cache_dir=tmp_path / "cache")
    lines: list[str] = []
    prepared = prepare(hub_settings(tmp_path), LineProgress(lines.append), options)

    clip_files = len(hub.repos[CLIP_ID].files)
    assert lines[0].startswith(f"downloading {CLIP_ID} (")
    assert f"{clip_files} files) from the Hugging Face hub" in lines[0]
    assert f"{CLIP_ID}: model.safetensors (" in lines[clip_files]  # weights come last
    assert f"file {clip_files} of {clip_files}" in lines[clip_files]
    assert any(line.startswith(f"downloading {NLI_ID} (") for line in lines)
    assert Path(prepared.clip_model) == cached_model(CLIP_ID, options)
    assert (Path(prepared.nli_model) / "model.safetensors").is_file()

    hub.stop()
    asked = len(hub.requests)
    lines.clear()
    again = prepare(hub_settings(tmp_path), LineProgress(lines.append), options)
    assert again == prepared
    assert lines == []  # from the cache: quiet
    reading = MoodAnalyzer.load(again.model_options()).analyze_batch(
        [(make_photo(), "rainy but happy")]
    )[0]
    assert reading.image.category_id in CATEGORY_BY_ID
    assert len(hub.requests) == asked  # the network was never asked


def test_an_unknown_model_is_one_line_naming_the_setting(hub, tmp_path) -> None:
    options = HubOptions(endpoint=hub.url, cache_dir=tmp_path / "cache")
    with pytest.raises(ModelLoadError) as raised:
        download_model(nli_ref("tiny/nope"), LineProgress(print), options)
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("Could not download the NLI model 'tiny/nope'")
    assert "HTTP 404" in message
    assert message.endswith(
        "Set AIDJ_NLI_MODEL (or pass --nli-model) to a model id or a local model folder."
    )


def test_a_hub_that_cannot_be_reached_is_one_line_naming_the_setting(hub, tmp_path) -> None:
    options = HubOptions(endpoint=hub.url, cache_dir=tmp_path / "cache")
    hub.stop()
    with pytest.raises(
        ModelLoadError, match=r"connection to http://127\.0\.0\.1:\d+ failed"
    ) as raised:
        download_model(nli_ref(), LineProgress(print), options)
    assert "AIDJ_NLI_MODEL" in str(raised.value)


def test_a_dropped_connection_is_resumed(hub, tmp_path) -> None:
    options = HubOptions(endpoint=hub.url, cache_dir=tmp_path / "cache")
    hub.cut("model.safetensors", 1)
    folder = download_model(nli_ref(), LineProgress(lambda line: None), options)
    assert hub.downloads("model.safetensors") == 2
    expected = hub.repos[NLI_ID].files["model.safetensors"].data
    assert (folder / "model.safetensors").read_bytes() == expected


def test_a_connection_that_keeps_dropping_fails_in_one_line_and_leaves_no_model(
    hub, tmp_path
) -> None:
    options = HubOptions(endpoint=hub.url, cache_dir=tmp_path / "cache")
    hub.cut("model.safetensors", 100)
    with pytest.raises(ModelLoadError) as raised:
        download_model(nli_ref(), LineProgress(lambda line: None), options)
    message = str(raised.value)
    assert "while fetching model.safetensors" in message and "AIDJ_NLI_MODEL" in message
    assert "\n" not in message
    assert cached_model(NLI_ID, options) is None  # the files before it are no model yet


def test_only_what_transformers_loads_is_chosen() -> None:
    listed = [
        HubFile(name, 1)
        for name in (
            ".gitattributes", "README.md", "config.json", "flax_model.msgpack", "merges.txt",
            "model.safetensors", "pytorch_model.bin", "tf_model.h5", "tokenizer.json",
            "onnx/model.onnx", "onnx/config.json", "spm.model",
        )
    ]  # fmt: skip
    names = [file.name for file in select_files(listed)]
    assert names == [
        "config.json",
        "merges.txt",
        "spm.model",
        "tokenizer.json",
        "model.safetensors",
    ]
    without_safetensors = [f for f in listed if f.name != "model.safetensors"]
    assert select_files(without_safetensors)[-1].name == "pytorch_model.bin"


def test_sizes_read_as_people_write_them() -> None:
    assert [human_size(n) for n in (512, 46_800, 605_200_000, 1_700_000_000)] == [
        "512 B",
        "46.8 kB",
        "605.2 MB",
        "1.7 GB",
    ]


# ---- the command, in a process of its own ---------------------------------------------


def aidj(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIDJ_", "HF_"))}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=cwd,
        env={**base, "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_models_download_fills_the_cache_and_analyze_then_runs_offline(hub, tmp_path) -> None:
    hf = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf")}
    models = {"AIDJ_CLIP_MODEL": CLIP_ID, "AIDJ_NLI_MODEL": NLI_ID}
    done = aidj("models", "download", env={**hf, **models}, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    file_lines = [line for line in done.stderr.splitlines() if " in, file " in line]
    files = len(hub.repos[CLIP_ID].files) + len(hub.repos[NLI_ID].files)
    assert len(file_lines) == files  # one line per file when stderr is not a terminal
    assert "HF_HUB_OFFLINE=1" in done.stdout

    hub.stop()
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo())
    env = {**hf, **models, "HF_HUB_OFFLINE": "1", "AIDJ_DB": str(tmp_path / "aidj.db")}
    analyzed = aidj("analyze", str(photo), "rainy but happy", "--json", env=env, cwd=tmp_path)
    assert analyzed.returncode == 0, analyzed.stderr
    assert json.loads(analyzed.stdout)["category"] in CATEGORY_BY_ID
    assert "downloading" not in analyzed.stderr


def test_models_download_to_a_folder_says_what_to_set(hub, tmp_path) -> None:
    env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf")}
    target = tmp_path / "models"
    done = aidj(
        "models", "download", "--to", str(target), "--clip-model", CLIP_ID,
        "--nli-model", NLI_ID, env=env, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"AIDJ_CLIP_MODEL={target / 'clip'}" in done.stdout
    assert f"AIDJ_NLI_MODEL={target / 'nli'}" in done.stdout
    settings = dataclasses.replace(
        hub_settings(tmp_path), clip_model=str(target / "clip"), nli_model=str(target / "nli")
    )
    reading = MoodAnalyzer.load(settings.model_options()).analyze_batch([(make_photo(), "")])[0]
    assert reading.image.category_id in CATEGORY_BY_ID


def test_models_download_of_an_unknown_model_fails_in_one_line(hub, tmp_path) -> None:
    env = {"HF_ENDPOINT": hub.url, "HF_HOME": str(tmp_path / "hf")}
    done = aidj("models", "download", "--clip-model", "tiny/nope", env=env, cwd=tmp_path)
    assert done.returncode == 1
    assert done.stderr.startswith("aidj: Could not download the CLIP model 'tiny/nope'")
    assert "Set AIDJ_CLIP_MODEL (or pass --clip-model)" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
