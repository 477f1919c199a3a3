"""The session fixture that builds (or reuses) the tiny offline models.

Imported into ``tests/conftest.py`` via ``pytest_plugins``. The build is cached in
``<repo>/.tiny-models`` (or ``$AIDJ_TINY_MODELS_DIR``) and reused while its recipe version
matches, so only the first run pays the few seconds.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.tiny_models import TinyModelPaths, build_tiny_models

REPO = Path(__file__).resolve().parent.parent


def tiny_models_dir() -> Path:
    """Where the tiny models live: ``$AIDJ_TINY_MODELS_DIR`` or ``<repo>/.tiny-models``."""
    configured = os.environ.get("AIDJ_TINY_MODELS_DIR", "").strip()
    return Path(configured) if configured else REPO / ".tiny-models"


@pytest.fixture(scope="session")
def tiny_models() -> TinyModelPaths:
    return build_tiny_models(tiny_models_dir())
