"""Genre slugs: both catalog formats and the category seed genres must agree."""

from __future__ import annotations

import pytest

from core.categories import CATEGORIES
from core.genres import normalise_genre, normalise_genres


@pytest.mark.parametrize(
    ("tidytuesday", "tracks_dataset"),
    [
        ("r&b", "r-n-b"),
        ("hip hop", "hip-hop"),
        ("neo soul", "neo-soul"),
        ("progressive electro house", "progressive-electro-house"),
        ("post-teen pop", "post-teen-pop"),
        ("rock & roll", "rock-n-roll"),
        ("drum_and_bass", "drum-and-bass"),
    ],
)
def test_both_formats_meet_in_one_slug(tidytuesday: str, tracks_dataset: str) -> None:
    assert normalise_genre(tidytuesday) == tracks_dataset
    assert normalise_genre(tracks_dataset) == tracks_dataset


@pytest.mark.parametrize(
    ("raw", "slug"),
    [
        ("  R&B ", "r-n-b"),
        ("Latin   Hip Hop", "latin-hip-hop"),
        ("j/rock", "j-rock"),
        ("--edm--", "edm"),
        ("", ""),
        ("   ", ""),
        ("&", ""),
        ("música latina", "música-latina"),
    ],
)
def test_normalise_genre(raw: str, slug: str) -> None:
    assert normalise_genre(raw) == slug


def test_every_seed_genre_is_already_a_slug() -> None:
    for category in CATEGORIES:
        for genre in category.seed_genres:
            assert normalise_genre(genre) == genre, (category.id, genre)


def test_normalise_genres_sorts_dedupes_and_drops_empty() -> None:
    assert normalise_genres(["hip hop", "Hip-Hop", "", "r&b", "  "]) == ("hip-hop", "r-n-b")
