"""Copying an R*Tree's whole content at once, through its shadow tables.

SQLite keeps an R*Tree in three ordinary tables, ``<name>_node``, ``<name>_rowid`` and
``<name>_parent`` (see "Shadow tables" in the R*Tree documentation), and two R*Trees made
by the same CREATE statement store a tree in them identically. Inserting 200k points one by
one takes seconds (each insert walks and rebalances the tree); copying the three tables
takes a fraction of that. That is what lets a catalog import build its index outside the
write lock and swap it in with one short transaction.
"""

from __future__ import annotations

import re

from sqlite_utils import Database

_SHADOWS = ("node", "rowid", "parent")
_CREATE = re.compile(r'CREATE\s+VIRTUAL\s+TABLE\s+("[^"]+"|\S+)\s+USING\s+rtree\b', re.I)


def create_rtree_like(db: Database, source: str, target: str) -> None:
    """Create an empty R*Tree ``target`` with the columns of ``source`` ("schema.name")."""
    schema, name = _split(source)
    row = db.execute(
        f'SELECT sql FROM "{schema}".sqlite_master WHERE type = ? AND name = ?', ["table", name]
    ).fetchone()
    if row is None or not _CREATE.match(row[0]):
        raise ValueError(f"{source} is not an R*Tree")
    db.execute(_CREATE.sub(f"CREATE VIRTUAL TABLE {_quoted(target)} USING rtree", row[0], 1))


def copy_rtree_content(db: Database, source: str, target: str) -> None:
    """Make ``target`` hold exactly the tree of ``source`` (made alike, e.g. by
    ``create_rtree_like``). Run it inside a transaction: the three tables go together."""
    for shadow in _SHADOWS:
        to, come_from = _quoted(target, shadow), _quoted(source, shadow)
        db.execute(f"DELETE FROM {to}")
        db.execute(f"INSERT INTO {to} SELECT * FROM {come_from}")


def _split(qualified: str) -> tuple[str, str]:
    schema, _, name = qualified.rpartition(".")
    return schema or "main", name


def _quoted(qualified: str, shadow: str = "") -> str:
    schema, name = _split(qualified)
    return f'"{schema}"."{name}_{shadow}"' if shadow else f'"{schema}"."{name}"'
