"""Plain-text and JSON forms of a playlist card, for the command line."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from core.reply import PlaylistCard, summary_lines, title


def card_lines(card: PlaylistCard) -> list[str]:
    lines = [f"{title(card)}  (request #{card.request_id})", *summary_lines(card)]
    if card.playlist_url:
        lines.append(f"Playlist: {card.playlist_url}")
    lines.append("")
    for number, track in enumerate(card.tracks, start=1):
        lines.append(
            f"{number:2d}. {track.artist_line} - {track.name}"
            f"  (valence {track.valence:.2f}, energy {track.energy:.2f})  {track.url}"
        )
    return lines


def card_json(card: PlaylistCard) -> dict[str, Any]:
    return {
        "request_id": card.request_id,
        **card.analysis.to_json(),
        "target": asdict(card.target),
        "round": card.round,
        "journey": card.journey.destination if card.journey else None,
        "path": [asdict(point) for point in card.path],
        "playlist_url": card.playlist_url,
        **_album_json(card),
        "tracks": [
            {
                "id": track.id,
                "name": track.name,
                "artists": list(track.artists),
                "valence": track.valence,
                "energy": track.energy,
                "popularity": track.popularity,
                "genres": list(track.genres),
                "url": track.url,
                "album_art_url": track.album_art_url,
            }
            for track in card.tracks
        ],
    }


def _album_json(card: PlaylistCard) -> dict[str, Any]:
    """An album's photos in order (read ones with their scene and points, skipped ones with
    why); nothing for a single photo."""
    if card.album is None:
        return {}
    return {
        "album": [
            {
                "position": photo.position,
                "category": photo.analysis.reading.image.category_id,
                "base": asdict(photo.analysis.base),
                "final": asdict(photo.analysis.final),
                "target": asdict(photo.target),
            }
            for photo in card.album.photos
        ],
        "skipped": [
            {"position": skipped.position, "problem": skipped.problem.value}
            for skipped in card.album.skipped
        ],
    }
