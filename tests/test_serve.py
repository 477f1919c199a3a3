"""The model step on Ray Serve: a real local Ray, real replicas, the tiny offline models.

One Ray instance for the module (2 CPUs, no dashboard, every socket on 127.0.0.1), one
application most tests share, and an application of their own for the tests that need other
limits. Skipped, with the reason, where the ``serve`` extra is not installed.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import re
import signal
import subprocess
import sys

import pytest

# Before Ray is imported: it would bind to the machine's network address and report usage.
os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # loopback only
os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
ray = pytest.importorskip("ray", reason="Ray Serve is not installed (pip install 'aidj[serve]')")
serve = pytest.importorskip("ray.serve")

from adapters.models.options import ModelOptions  # noqa: E402
from adapters.models.serve_app import app_from_args, build_app  # noqa: E402
from adapters.models.serve_deploy import deploy  # noqa: E402
from adapters.models.serve_options import ModelServer, ServeOptions  # noqa: E402
from adapters.models.serve_reader import ServeReader  # noqa: E402
from adapters.models.worker import ModelWorker  # noqa: E402
from bot.metrics import Metrics  # noqa: E402
from core.categories import CATEGORY_BY_ID  # noqa: E402
from core.errors import BadImageError, ConfigError, WorkerError  # noqa: E402
from core.messages import ImageProblem  # noqa: E402
from core.mood import Reading  # noqa: E402
from tests.conftest import REPO, make_photo  # noqa: E402

APP = "aidj-test"
START_TIMEOUT_S = 240.0  # loading a replica on two busy cores: a liveness bound only
READER_TIMEOUT_S = 120.0  # generous: a bound on hanging, not a speed target
SMALL = 0.25  # CPUs per test replica, so four fit on the two of the local Ray


@pytest.fixture(scope="module")
def local_ray():
    """A local Ray with Serve (no HTTP proxy); its GCS address. Shut down at the end.
    Ray turns token authentication on for a cluster it starts (unless RAY_AUTH_MODE says
    otherwise); processes started from here inherit the mode, and find the token in
    ~/.ray/auth_token. Ray's SIGTERM handler (exit at once) is undone at the end."""
    sigterm = signal.getsignal(signal.SIGTERM)
    ray.init(
        num_cpus=2,
        include_dashboard=False,
        object_store_memory=128 * 1024 * 1024,
        log_to_driver=False,
    )
    serve.start(proxy_location="Disabled")
    try:
        yield ray.get_runtime_context().gcs_address
    finally:
        serve.shutdown()
        ray.shutdown()
        signal.signal(signal.SIGTERM, sigterm)


def _deploy(settings, app: str, serving: ServeOptions, address: str) -> ModelServer:
    deploy(settings.model_options(), serving, app=app, address=address, timeout_s=START_TIMEOUT_S)
    return ModelServer(address, app)


@pytest.fixture(scope="module")
def server(local_ray, model_settings) -> ModelServer:
    """The shared application: one replica, batches of up to 8 within 150 ms."""
    settings = dataclasses.replace(model_settings, worker_batch_wait_ms=150, worker_batch_size=8)
    return _deploy(settings, APP, ServeOptions(cpus=SMALL, max_queued=200), local_ray)


@pytest.fixture(scope="module")
def reader_metrics() -> Metrics:
    """What the shared reader reports, as `aidj run` exports it."""
    return Metrics()


@pytest.fixture(scope="module")
async def reader(server, model_settings, reader_metrics):
    options = dataclasses.replace(model_settings.model_options(), worker_timeout_s=READER_TIMEOUT_S)
    async with ServeReader(server, options, events=reader_metrics) as connected:
        yield connected


def _metric(metrics: Metrics, name: str) -> float:
    return metrics.registry.get_sample_value(name) or 0.0


def _replicas(app: str) -> list[str]:
    return sorted(
        actor["name"]
        for actor in ray.util.list_named_actors(all_namespaces=True)
        if actor["name"].startswith(f"SERVE_REPLICA::{app}#")
    )


def _same_reading(a: Reading, b: Reading) -> None:
    assert a.image.category_id == b.image.category_id
    assert a.image.distribution == pytest.approx(b.image.distribution, abs=1e-5)
    for axis in ("valence", "energy"):
        left, right = getattr(a.text, axis), getattr(b.text, axis)
        assert left.label == right.label
        assert left.scores == pytest.approx(right.scores, abs=1e-5)
        assert left.confidence == pytest.approx(right.confidence, abs=1e-5)


async def test_a_reading_through_serve_equals_the_local_workers(reader, model_settings):
    photo, caption = make_photo((200, 120, 40)), "비가 오지만 오늘 좋은 일이 있어서 신나!"
    direct_before = reader.stats.direct
    through_serve = await reader.analyze(photo, caption)
    assert reader.stats.direct == direct_before + 1  # a small photo: straight to the replica
    async with ModelWorker(model_settings.model_options()) as worker:
        local = await worker.analyze(photo, caption)
    assert through_serve.image.category_id in CATEGORY_BY_ID
    _same_reading(through_serve, local)


async def test_a_photo_over_the_direct_limit_goes_through_rays_object_store(server, model_settings):
    """Both ways to the replica give the same reading; the limit decides the way."""
    photo, caption = make_photo((30, 90, 160)), "a quiet evening by the sea"
    options = dataclasses.replace(model_settings.model_options(), worker_timeout_s=READER_TIMEOUT_S)
    async with (
        ServeReader(server, options, direct_max_bytes=len(photo)) as direct,
        ServeReader(server, options, direct_max_bytes=len(photo) - 1) as through_ray,
        ServeReader(server, options, direct_max_bytes=0) as never_direct,
    ):
        by_value = await direct.analyze(photo, caption)
        by_reference = await through_ray.analyze(photo, caption)
        small = await never_direct.analyze(make_photo(size=16), caption)
        assert (direct.stats.direct, through_ray.stats.direct, never_direct.stats.direct) == (
            1,
            0,
            0,
        )
    _same_reading(by_value, by_reference)
    assert small.image.category_id in CATEGORY_BY_ID


async def test_fifty_concurrent_requests_are_answered_in_batches(reader, reader_metrics):
    served_before = _metric(reader_metrics, "aidj_model_server_batch_size_count")
    sizes_before = _metric(reader_metrics, "aidj_model_server_batch_size_sum")
    photos = [make_photo((i * 5 % 256, 100, 200 - i * 3)) for i in range(50)]
    readings = await asyncio.gather(
        *(reader.analyze(photo, f"caption number {i}") for i, photo in enumerate(photos))
    )
    assert len(readings) == 50
    assert all(isinstance(r, Reading) and r.image.category_id in CATEGORY_BY_ID for r in readings)
    assert reader.stats.largest_batch > 1
    assert reader.queue_depth == 0
    served = _metric(reader_metrics, "aidj_model_server_batch_size_count") - served_before
    assert served == 50
    # a batch of n counts n times: more than 50 in sum means some were read together
    assert _metric(reader_metrics, "aidj_model_server_batch_size_sum") - sizes_before > 50


async def test_a_bad_image_fails_only_its_own_request(reader):
    good, bad = await asyncio.gather(
        reader.analyze(make_photo(), "good"),
        reader.analyze(b"this is not an image", "bad"),
        return_exceptions=True,
    )
    assert isinstance(good, Reading)
    assert isinstance(bad, BadImageError)
    assert bad.problem is ImageProblem.NOT_AN_IMAGE  # the code crosses the cluster


async def test_a_caller_never_waits_past_the_timeout(server, model_settings):
    options = dataclasses.replace(model_settings.model_options(), worker_timeout_s=0.001)
    async with ServeReader(server, options) as impatient:
        with pytest.raises(WorkerError, match="did not answer within"):
            await impatient.analyze(make_photo(), "too slow")
        assert impatient.queue_depth == 0


async def test_a_killed_replica_is_replaced_and_no_call_hangs(reader, reader_metrics):
    before = _replicas(APP)
    assert len(before) == 1
    calls = [
        asyncio.create_task(reader.analyze(make_photo((i * 12, 60, 90)), f"under load {i}"))
        for i in range(24)
    ]
    first_answered = reader.stats.answered
    async with asyncio.timeout(60):  # liveness: the first batch comes back
        while reader.stats.answered == first_answered:
            await asyncio.sleep(0.01)
    ray.kill(ray.get_actor(before[0], namespace="serve"), no_restart=True)
    async with asyncio.timeout(READER_TIMEOUT_S + 30):  # liveness, not speed
        results = await asyncio.gather(*calls, return_exceptions=True)
    unexpected = [r for r in results if not isinstance(r, Reading | WorkerError)]
    assert unexpected == []
    assert reader.stats.resent >= 1  # requests on the dead replica were sent again
    assert reader.stats.direct >= len(calls)  # first sent by value; resent through Ray
    assert _metric(reader_metrics, "aidj_model_server_resends_total") == reader.stats.resent
    again = await reader.analyze(make_photo(), "after the restart")
    assert again.image.category_id in CATEGORY_BY_ID
    after = _replicas(APP)
    assert len(after) == 1 and after != before


async def test_overload_gets_the_busy_reply_at_once(local_ray, model_settings):
    """One request on the replica (held there by a long batch window), one queued at this
    caller: the rest are refused before either of those is answered."""
    settings = dataclasses.replace(model_settings, worker_batch_size=8, worker_batch_wait_ms=3000)
    serving = ServeOptions(cpus=SMALL, max_ongoing=1, max_queued=1)
    busy_app = _deploy(settings, "aidj-busy", serving, local_ray)
    try:
        async with ServeReader(busy_app, settings.model_options()) as busy:
            await busy.analyze(make_photo(), "warm-up: the caller learns the limits")
            calls = [
                asyncio.create_task(busy.analyze(make_photo((i * 40, 10, 10)), f"flood {i}"))
                for i in range(6)
            ]
            done, pending = await asyncio.wait(calls, return_when=asyncio.FIRST_COMPLETED)
            assert pending, "a refusal should come before any accepted request is answered"
            for call in done:
                with pytest.raises(WorkerError, match="busy"):
                    call.result()
            results = await asyncio.gather(*calls, return_exceptions=True)
        assert any(isinstance(r, Reading) for r in results)
        refused = [r for r in results if isinstance(r, WorkerError)]
        assert refused and all("busy" in str(r) for r in refused)
    finally:
        serve.delete("aidj-busy")


async def test_the_flow_recommends_through_the_model_server(server, own_settings):
    from bot.wiring import service_context
    from core.flow import PhotoRequest

    settings = dataclasses.replace(own_settings, model_server=server)
    request = PhotoRequest("cli", "chat", "user", make_photo((30, 160, 90)), "바다 보러 가는 길")
    async with service_context(settings, with_models=True, worker=True) as flow:
        card = await flow.recommend(request)
    assert card.analysis.reading.image.category_id in CATEGORY_BY_ID
    assert len({track.id for track in card.tracks}) == settings.recommend_count


async def test_a_telegram_photo_goes_through_the_model_server(server, own_settings):
    from tests.fake_telegram import private_chat, user
    from tests.wired_telegram import wired_telegram

    settings = dataclasses.replace(own_settings, model_server=server)
    sender = user(9002)
    async with wired_telegram(settings, "424242:serve-wiring-token") as fake:
        _, sent = await fake.send_photo(private_chat(sender), sender, make_photo(), "신나!")
    links = re.findall(r"open\.spotify\.com/track/([A-Za-z0-9]+)", sent.params["caption"])
    assert len(set(links)) == settings.recommend_count


async def test_a_missing_application_is_a_clear_error_naming_the_setting(local_ray, own_settings):
    from bot.wiring import service_context

    settings = dataclasses.replace(own_settings, model_server=ModelServer(local_ray, "no-app"))
    with pytest.raises(ConfigError, match=r"AIDJ_MODEL_SERVER=.*no-app.*aidj models serve"):
        async with service_context(settings, with_models=True, worker=True):
            pass


async def test_an_unreachable_cluster_is_a_clear_error_naming_the_setting(local_ray, own_settings):
    from bot.wiring import service_context

    nobody = ModelServer("ray://127.0.0.1:1")  # port 1: nothing listens there
    settings = dataclasses.replace(own_settings, model_server=nobody)
    with pytest.raises(ConfigError, match=r"AIDJ_MODEL_SERVER=ray://127.0.0.1:1/aidj: no Ray"):
        async with service_context(settings, with_models=True, worker=True):
            pass


# A bot-side process of its own: `aidj recommend` with AIDJ_MODEL_SERVER joins the cluster by
# its address, gets the card, and reports which heavy modules it imported.
_BOT_SIDE = """
import contextlib, io, json, sys
from bot.cli import main
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["recommend", sys.argv[1], "paper planes", "--json", "--db", sys.argv[2]])
heavy = sorted(m for m in ("torch", "transformers") if m in sys.modules)
print(json.dumps({"code": code, "card": json.loads(out.getvalue()), "heavy": heavy}))
"""


def test_the_bot_side_process_loads_no_model_and_no_torch(server, own_settings, tmp_path):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo((220, 180, 20)))
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO),
        "AIDJ_MODEL_SERVER": str(server),
        "AIDJ_CLIP_MODEL": "/nonexistent/clip",  # proof that nothing loads here
        "AIDJ_NLI_MODEL": "/nonexistent/nli",
    }
    done = subprocess.run(
        [sys.executable, "-c", _BOT_SIDE, str(photo), str(own_settings.db_path)],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,  # liveness bound
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["code"] == 0
    assert len(report["card"]["tracks"]) == own_settings.recommend_count
    assert report["heavy"] == []


def test_a_bot_without_the_clusters_token_is_told_how_to_join(server, tmp_path):
    if os.environ.get("RAY_AUTH_MODE") != "token":
        pytest.skip("the local Ray runs without token authentication (RAY_AUTH_MODE)")
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo())
    env = {**os.environ, "PYTHONPATH": str(REPO), "AIDJ_MODEL_SERVER": str(server)}
    env["RAY_AUTH_MODE"] = "disabled"  # a process joining a cluster sends no token by default
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "analyze", str(photo), "--db", str(tmp_path / "x.db")],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,  # liveness bound
        check=False,
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert f"aidj: AIDJ_MODEL_SERVER={server}: could not join" in done.stderr
    assert "set RAY_AUTH_MODE=token and RAY_AUTH_TOKEN" in done.stderr


def test_aidj_models_serve_deploys_on_a_cluster_and_returns(local_ray, tiny_models, capsys):
    from bot.cli import build_parser

    argv = ["models", "serve", "--address", local_ray, "--app", "aidj-cli", "--cpus", "0.25"]
    argv += ["--clip-model", str(tiny_models.clip), "--nli-model", str(tiny_models.nli)]
    args = build_parser().parse_args(argv)
    try:
        assert args.handler(args) == 0
        assert serve.status().applications["aidj-cli"].status == "RUNNING"
    finally:
        serve.delete("aidj-cli")
    out = capsys.readouterr().out
    assert f"AIDJ_MODEL_SERVER={local_ray}/aidj-cli" in out


def test_aidj_models_serve_without_an_address_holds_a_local_ray(tiny_models, tmp_path):
    """It starts a Ray of its own, says where, serves until SIGTERM, then stops cleanly."""
    command = [sys.executable, "-m", "bot.cli", "models", "serve", "--app", "solo"]
    command += ["--cpus", "0.5", "--clip-model", str(tiny_models.clip)]
    command += ["--nli-model", str(tiny_models.nli)]
    env = {**os.environ, "PYTHONPATH": str(REPO), "AIDJ_WORKER_START_TIMEOUT_S": "240"}
    env.pop("RAY_ADDRESS", None)
    stderr = tmp_path / "stderr.txt"
    with stderr.open("w") as errors:
        server = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=errors, text=True, env=env
        )
    try:
        assert server.stdout is not None
        lines = []
        for line in server.stdout:  # the deploy's own timeout bounds this wait
            lines.append(line)
            if line.startswith("This process holds"):
                break
        assert any(
            re.match(r"Point the bots at it: AIDJ_MODEL_SERVER=\S+/solo$", x) for x in lines
        ), "".join(lines) + stderr.read_text()[-3000:]
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=120) == 0, stderr.read_text()[-3000:]
    finally:
        if server.poll() is None:
            server.kill()
            server.wait()
        server.stdout.close()


def test_the_serve_config_file_builds_the_default_application():
    """`serve deploy adapters/models/serve.yaml` deploys what `aidj models serve` does with
    the default settings: same options in every replica, same deployment shape."""
    import yaml
    from ray.serve.schema import ServeDeploySchema

    text = (REPO / "adapters" / "models" / "serve.yaml").read_text()
    config = ServeDeploySchema.model_validate(yaml.safe_load(text))
    (application,) = config.applications
    assert application.route_prefix is None
    from_file = app_from_args(application.args)
    default = build_app(ModelOptions(), ServeOptions())
    assert _shape(from_file) == _shape(default)


def _shape(app) -> tuple[object, ...]:
    deployment = app._bound_deployment
    return (deployment.name, deployment.init_args, deployment._deployment_config.model_dump())


def test_unknown_args_in_the_config_file_are_named():
    with pytest.raises(ValueError, match="unknown args replicas"):
        app_from_args({"replicas": 2})


def test_autoscaling_and_gpus_reach_the_deployment():
    serving = ServeOptions(min_replicas=1, max_replicas=4, target_ongoing=6, gpus=1)
    deployment = build_app(ModelOptions(), serving)._bound_deployment
    config = deployment._deployment_config
    assert config.autoscaling_config.min_replicas == 1
    assert config.autoscaling_config.max_replicas == 4
    assert config.autoscaling_config.target_ongoing_requests == 6
    assert deployment.ray_actor_options["num_gpus"] == 1
    assert config.max_queued_requests == serving.max_queued
