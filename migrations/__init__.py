"""The database schema, as an ordered set of sqlite-utils migrations.

``adapters.storage.database.open_database`` applies pending ones every time the database
is opened, and ``aidj db migrate`` does it explicitly. Each migration runs in its own
transaction together with its record in ``_sqlite_migrations``, so applying is idempotent
and a failed migration leaves the schema as it was. Add a new module ``mNNNN_name.py`` with
an ``apply(db)`` function and register it below; never edit one that has shipped.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from migrations import (
    m0001_initial,
    m0002_catalog_version,
    m0003_fit,
    m0004_prefs,
    m0005_journey,
    m0006_albums,
    m0007_scene_choice,
)

MIGRATIONS = Migrations("aidj")
MIGRATIONS(name="0001_initial")(m0001_initial.apply)
MIGRATIONS(name="0002_catalog_version")(m0002_catalog_version.apply)
MIGRATIONS(name="0003_fit")(m0003_fit.apply)
MIGRATIONS(name="0004_prefs")(m0004_prefs.apply)
MIGRATIONS(name="0005_journey")(m0005_journey.apply)
MIGRATIONS(name="0006_albums")(m0006_albums.apply)
MIGRATIONS(name="0007_scene_choice")(m0007_scene_choice.apply)


def apply_migrations(db: Database) -> list[str]:
    """Apply every pending migration; the names applied now, in order."""
    pending = [migration.name for migration in MIGRATIONS.pending(db)]
    MIGRATIONS.apply(db)
    return pending


def pending_migrations(db: Database) -> list[str]:
    """The names of the migrations this database lacks, without writing to it."""
    return [migration.name for migration in MIGRATIONS.pending(db)]


def applied_migrations(db: Database) -> list[str]:
    """The names of the migrations this database has, in the order applied."""
    return [migration.name for migration in MIGRATIONS.applied(db)]
