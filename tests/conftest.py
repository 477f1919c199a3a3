"""Shared fixtures: tiny offline models, photos, settings pointing at them."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from pathlib import Path

import pytest
from PIL import Image

from bot.config import Settings, load_settings

pytest_plugins = ["tests.fixtures_models"]

REPO = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO.parent / "shared" / "data"


def make_photo(
    color: tuple[int, int, int] = (40, 80, 160), size: int = 64, fmt: str = "JPEG"
) -> bytes:
    """A small real image, varied by colour so different photos give different readings."""
    image = Image.new("RGB", (size, size), color)
    for x in range(0, size, 8):  # some structure, so CLIP sees more than a flat colour
        for y in range(size):
            image.putpixel((x, y), (255 - color[0], 255 - color[1], 255 - color[2]))
    buffer = io.BytesIO()
    image.save(buffer, format=fmt)
    return buffer.getvalue()


@pytest.fixture
def photo() -> bytes:
    return make_photo()


@pytest.fixture(scope="session")
def model_settings(tiny_models, tmp_path_factory) -> Settings:
    """Settings that load the tiny models; their ``db_path`` is a file no test builds a
    catalog in (a test that needs a database takes ``own_settings`` or ``module_settings``)."""
    db = tmp_path_factory.mktemp("db") / "aidj.db"
    return load_settings(
        {},
        dotenv=False,
        clip_model=str(tiny_models.clip),
        nli_model=str(tiny_models.nli),
        db_path=db,
        torch_threads=1,
    )


@pytest.fixture(scope="session")
def flow_settings(model_settings) -> Settings:
    """``model_settings`` with a rate limit chat suites won't hit; no database of its own."""
    import dataclasses

    return dataclasses.replace(model_settings, rate_limit_per_minute=1000)


@pytest.fixture(scope="session")
def catalog_template(tmp_path_factory) -> Path:
    """A synthetic catalog built once and never written to: tests copy it."""
    from tests.catalog_factory import build_synthetic_catalog

    path = tmp_path_factory.mktemp("template") / "catalog.db"
    db = build_synthetic_catalog(path)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    return path


def _settings_with_copy(settings: Settings, template: Path, folder: Path) -> Settings:
    import dataclasses
    import shutil

    db_path = folder / "aidj.db"
    shutil.copyfile(template, db_path)
    return dataclasses.replace(settings, db_path=db_path)


@pytest.fixture
def own_settings(flow_settings, catalog_template, tmp_path) -> Settings:
    """``flow_settings`` with a database of this test's own (a copy of the catalog), so no
    other test's requests, and no test order, can change what this one sees."""
    return _settings_with_copy(flow_settings, catalog_template, tmp_path)


@pytest.fixture(scope="module")
def module_settings(flow_settings, catalog_template, tmp_path_factory, request) -> Settings:
    """``flow_settings`` with a database of this test module's own (a copy of the catalog),
    for a module that shares one running bot; its tests read only rows they made."""
    folder = tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1])
    return _settings_with_copy(flow_settings, catalog_template, folder)


@pytest.fixture(scope="session")
def tiny_analyzer(flow_settings):
    """The real analyzer on the tiny models, in this process (loaded once per run)."""
    from adapters.models.in_process import InProcessAnalyzer

    return InProcessAnalyzer(flow_settings.model_options())


@pytest.fixture(scope="session")
def destination_analyzer(flow_settings):
    """The tiny models with the caption's destination reading on (AIDJ_JOURNEY_THRESHOLD
    set; ``tiny_analyzer`` follows the default, off)."""
    import dataclasses

    from adapters.models.in_process import InProcessAnalyzer

    reading = dataclasses.replace(flow_settings, journey_threshold=0.5)
    return InProcessAnalyzer(reading.model_options())


@pytest.fixture(scope="module")
def module_mood_flow(module_settings, tiny_analyzer):
    """The real MoodService (in-process tiny models, the module's own copy of the synthetic
    catalog) for a chat suite's shared bot."""
    from adapters.storage.database import open_database
    from adapters.storage.gateway import Storage
    from bot.service import MoodService

    storage = Storage(open_database(module_settings.db_path))
    yield MoodService(tiny_analyzer, storage, module_settings)
    storage.close()


async def eventually(check: Callable[[], object], timeout: float = 5.0) -> None:
    """Wait until ``check()`` is truthy (a positive event, e.g. a row the bot writes right
    after a call the test saw), failing after ``timeout`` seconds."""
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.01)


def card_rounds(settings: Settings, platform: str, chat_id: object, message_id: object):
    """The rounds (cards shown) of the request a posted card belongs to, read through a
    fresh connection; None until the bot has linked the message to its request. A press is
    kept once its edit has returned, so tests wait on this before counting on the press."""
    import sqlite3

    # read-only and unmigrated: polling must never take a lock the bot's writes wait on
    db = sqlite3.connect(f"file:{settings.db_path}?mode=ro", uri=True)
    try:
        row = db.execute(
            "SELECT r.rounds FROM reply_messages m JOIN requests r ON r.id = m.request_id"
            " WHERE m.platform = ? AND m.chat_id = ? AND m.message_id = ?",
            [platform, str(chat_id), str(message_id)],
        ).fetchone()
    finally:
        db.close()
    return None if row is None else row[0]


def recorded_request(settings: Settings, request_id: int):
    """What the real flow stored for ``request_id`` (read through a fresh connection)."""
    from adapters.storage.database import open_database
    from adapters.storage.request_log import RequestLog

    db = open_database(settings.db_path)
    try:
        stored = RequestLog(db).get(request_id)
    finally:
        db.close()
    assert stored is not None, f"request #{request_id} was not recorded"
    return stored
