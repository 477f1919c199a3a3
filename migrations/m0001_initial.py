"""The first schema: catalog, anchors, request log, Spotify caches.

Statements run one by one (``executescript`` would commit the migration's transaction
half-way). Timestamps are ISO 8601 UTC text. JSON columns hold arrays or objects written by
``json.dumps``.
"""

from __future__ import annotations

from sqlite_utils import Database

CATALOG = [
    # One row per Spotify track. ``artists`` is a JSON array of names in credit order (an
    # artist name may contain ';' or ','), ``genres`` a sorted JSON array of every genre
    # slug the track was listed under, across all imports.
    """
    CREATE TABLE tracks (
        id TEXT NOT NULL PRIMARY KEY,
        name TEXT NOT NULL,
        artists TEXT NOT NULL,
        album TEXT NOT NULL DEFAULT '',
        genres TEXT NOT NULL DEFAULT '[]',
        popularity INTEGER NOT NULL,
        duration_ms INTEGER,
        valence REAL NOT NULL,
        energy REAL NOT NULL,
        danceability REAL,
        acousticness REAL,
        instrumentalness REAL,
        speechiness REAL,
        liveness REAL,
        tempo REAL,
        loudness REAL,
        key INTEGER,
        mode INTEGER
    )
    """,
    # Genre slugs and a small integer code each: the code is the R*Tree's third dimension.
    """
    CREATE TABLE genres (
        code INTEGER PRIMARY KEY,
        slug TEXT NOT NULL UNIQUE,
        track_count INTEGER NOT NULL DEFAULT 0
    )
    """,
    # One row per (track, genre); ``id`` is the R*Tree entry of that pair.
    """
    CREATE TABLE track_genres (
        id INTEGER PRIMARY KEY,
        track_id TEXT NOT NULL,
        genre TEXT NOT NULL,
        UNIQUE (track_id, genre)
    )
    """,
    "CREATE INDEX track_genres_by_genre ON track_genres (genre, track_id)",
    # The nearest-track index: one point per (track, genre) pair in (valence, energy,
    # genre code), so a box query within one genre touches only that genre's tracks. The
    # auxiliary columns carry what ranking needs (exact values; the box is float32).
    """
    CREATE VIRTUAL TABLE track_plane USING rtree (
        id,
        valence_min, valence_max,
        energy_min, energy_max,
        genre_min, genre_max,
        +track_id TEXT,
        +valence REAL,
        +energy REAL,
        +popularity INTEGER,
        +artists TEXT
    )
    """,
]

ANCHORS = [
    # ``rule``: the widest level of core.anchors' rule used; ``track_ids`` the JSON array
    # of the chosen tracks, so an anchor can be explained.
    """
    CREATE TABLE anchors (
        category_id TEXT NOT NULL PRIMARY KEY,
        valence REAL NOT NULL,
        energy REAL NOT NULL,
        danceability REAL,
        acousticness REAL,
        instrumentalness REAL,
        speechiness REAL,
        liveness REAL,
        tempo REAL,
        loudness REAL,
        track_count INTEGER NOT NULL,
        rule TEXT NOT NULL,
        track_ids TEXT NOT NULL DEFAULT '[]',
        built_at TEXT NOT NULL
    )
    """,
]

REQUESTS = [
    # One row per photo request. ``categories`` (the full CLIP distribution) and
    # ``text_scores`` (per-axis label scores) are JSON, kept so a stored request can be
    # re-rendered exactly; ``rounds`` counts the cards shown so far.
    """
    CREATE TABLE requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        language TEXT NOT NULL,
        caption TEXT NOT NULL DEFAULT '',
        category_id TEXT NOT NULL,
        category_confidence REAL NOT NULL,
        categories TEXT NOT NULL DEFAULT '{}',
        text_valence_label TEXT NOT NULL,
        text_valence_direction INTEGER NOT NULL,
        text_valence_confidence REAL NOT NULL,
        text_energy_label TEXT NOT NULL,
        text_energy_direction INTEGER NOT NULL,
        text_energy_confidence REAL NOT NULL,
        text_scores TEXT NOT NULL DEFAULT '{}',
        base_valence REAL NOT NULL,
        base_energy REAL NOT NULL,
        base_source TEXT NOT NULL,
        final_valence REAL NOT NULL,
        final_energy REAL NOT NULL,
        target_valence REAL NOT NULL,
        target_energy REAL NOT NULL,
        seed_genres TEXT NOT NULL,
        rounds INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX requests_by_user ON requests (platform, user_id, created_at)",
    """
    CREATE TABLE shown_tracks (
        request_id INTEGER NOT NULL,
        track_id TEXT NOT NULL,
        round INTEGER NOT NULL,
        position INTEGER NOT NULL,
        shown_at TEXT NOT NULL,
        PRIMARY KEY (request_id, track_id)
    )
    """,
    """
    CREATE TABLE reply_messages (
        platform TEXT NOT NULL,
        chat_id TEXT NOT NULL,
        message_id TEXT NOT NULL,
        request_id INTEGER NOT NULL,
        PRIMARY KEY (platform, chat_id, message_id)
    )
    """,
    "CREATE INDEX reply_messages_by_request ON reply_messages (request_id)",
    """
    CREATE TABLE feedback (
        id INTEGER PRIMARY KEY,
        request_id INTEGER NOT NULL,
        user_id TEXT NOT NULL,
        action TEXT NOT NULL,
        created_at TEXT NOT NULL
    )
    """,
    "CREATE INDEX feedback_by_request ON feedback (request_id)",
]

SPOTIFY = [
    # Used by adapters/spotify: album art and availability per track, and the playlist
    # made for a request (``deleted_at`` once cleaned up).
    """
    CREATE TABLE spotify_tracks (
        track_id TEXT NOT NULL PRIMARY KEY,
        album_art_url TEXT,
        available INTEGER,
        fetched_at TEXT
    )
    """,
    """
    CREATE TABLE spotify_playlists (
        request_id INTEGER PRIMARY KEY,
        playlist_id TEXT,
        url TEXT,
        created_at TEXT,
        deleted_at TEXT
    )
    """,
]

STATEMENTS: tuple[str, ...] = (*CATALOG, *ANCHORS, *REQUESTS, *SPOTIFY)


def apply(db: Database) -> None:
    """Create every table of the first schema."""
    for statement in STATEMENTS:
        db.execute(statement)
