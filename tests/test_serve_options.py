"""The model server's settings, without Ray: parsing, validation, and what the base install
imports (no Ray unless a model server is used)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

from adapters.models.ray_cluster import host_port, probe
from adapters.models.serve_options import ModelServer, ServeOptions, parse_replicas
from bot.config import load_settings
from core.errors import ConfigError, WorkerError
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("raw", "address", "app"),
    [
        ("ray://head:10001", "ray://head:10001", "aidj"),
        ("ray://head:10001/models", "ray://head:10001", "models"),
        ("auto", "auto", "aidj"),
        ("auto/models", "auto", "models"),
        (" 10.0.0.5:6379/x ", "10.0.0.5:6379", "x"),
    ],
)
def test_a_model_server_names_an_address_and_an_app(raw, address, app):
    server = ModelServer.parse(raw)
    assert (server.address, server.app) == (address, app)
    assert ModelServer.parse(str(server)) == server


@pytest.mark.parametrize("raw", ["", "ray://", "ray://head:10001/", "auto/a/b", "://head:1"])
def test_a_malformed_model_server_is_refused(raw):
    with pytest.raises(ValueError):
        ModelServer.parse(raw)


@pytest.mark.parametrize(("raw", "expected"), [("2", (2, 2)), ("1-4", (1, 4)), ("0-3", (0, 3))])
def test_replicas_are_a_count_or_a_range(raw, expected):
    assert parse_replicas(raw) == expected


@pytest.mark.parametrize("raw", ["0", "4-1", "x", "1-", "-2", "1-x"])
def test_impossible_replica_counts_are_refused(raw):
    with pytest.raises(ValueError):
        parse_replicas(raw)


def test_the_environment_shapes_the_deployment():
    settings = load_settings(
        {
            "AIDJ_MODEL_SERVER": "ray://head:10001/models",
            "AIDJ_SERVE_REPLICAS": "1-4",
            "AIDJ_SERVE_GPUS": "1",
            "AIDJ_SERVE_MAX_QUEUED": "10",
            "AIDJ_WORKER_BATCH_SIZE": "16",
        },
        dotenv=False,
    )
    assert settings.model_server == ModelServer("ray://head:10001", "models")
    assert settings.model_server.through_ray_client  # so every request goes through Ray
    assert not ModelServer("10.0.0.5:6379").through_ray_client
    assert settings.serve_direct_max_kb == 512
    serving = settings.serve_options()
    assert serving.autoscaling and (serving.min_replicas, serving.max_replicas) == (1, 4)
    assert (serving.gpus, serving.max_queued) == (1.0, 10)
    assert settings.model_options().worker_batch_size == 16  # batching: the worker's setting
    assert not load_settings({}, dotenv=False).serve_options().autoscaling


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("AIDJ_SERVE_REPLICAS", "4-1", "AIDJ_SERVE_REPLICAS must be a replica count"),
        ("AIDJ_MODEL_SERVER", "ray://head:10001/", "AIDJ_MODEL_SERVER must be a Ray address"),
        ("AIDJ_SERVE_MAX_QUEUED", "0", "AIDJ_SERVE_* settings: max_queued must be above 0"),
        ("AIDJ_SERVE_GPUS", "-1", "AIDJ_SERVE_* settings: gpus per replica cannot be negative"),
        ("AIDJ_SERVE_DIRECT_MAX_KB", "-1", "AIDJ_SERVE_DIRECT_MAX_KB must be within [0, 3072]"),
        ("AIDJ_SERVE_DIRECT_MAX_KB", "4096", "AIDJ_SERVE_DIRECT_MAX_KB must be within [0, 3072]"),
    ],
)
def test_a_bad_serve_setting_is_named(name, raw, message):
    with pytest.raises(ConfigError) as raised:
        load_settings({name: raw}, dotenv=False)
    assert str(raised.value).startswith(message)


def test_serve_options_refuse_a_replica_range_upside_down():
    with pytest.raises(ValueError, match="replicas"):
        ServeOptions(min_replicas=3, max_replicas=2)


def test_with_a_model_server_nothing_is_downloaded_here():
    from bot.models import prepare

    settings = load_settings(
        {"AIDJ_MODEL_SERVER": "auto", "AIDJ_CLIP_MODEL": "nobody/not-on-any-hub"}, dotenv=False
    )
    assert prepare(settings) is settings


def test_host_port_reads_every_address_form():
    assert host_port("ray://head:10001") == ("head", 10001)
    assert host_port("10.0.0.5:6379") == ("10.0.0.5", 6379)
    assert host_port("[::1]:6379") == ("::1", 6379)
    assert host_port("auto") is None
    assert host_port("local") is None


def test_probing_a_closed_port_is_a_clear_error():
    with socket.socket() as unused:  # a port that was free a moment ago: nothing listens
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with pytest.raises(WorkerError, match=f"no Ray cluster answers at 127.0.0.1:{port}"):
        probe("127.0.0.1", port, timeout_s=5)


def test_the_base_install_imports_no_ray():
    """The bots, the CLI and the wiring import Ray only when a model server is used."""
    code = (
        "import sys, bot.cli, bot.run, bot.wiring, bot.cli_serve, adapters.models.worker; "
        "print('ray' in sys.modules)"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        check=True,
    )
    assert done.stdout.strip() == "False"


def test_a_replica_given_a_gpu_drops_the_cpu_only_speed_ups():
    """The settings allow int8 and ONNX Runtime for CPU replicas; one Ray gave a GPU runs
    both models on cuda instead, where neither applies."""
    settings = load_settings({"AIDJ_QUANTIZE": "int8", "AIDJ_CLIP_RUNTIME": "onnxruntime"})
    on_gpu = settings.model_options().on_gpu()
    assert (on_gpu.device, on_gpu.quantize, on_gpu.clip_runtime) == ("cuda", "none", "torch")
    assert on_gpu.clip_model == settings.clip_model  # nothing else changes
