"""Optional Spotify extras; AI DJ works fully without them (local catalog).

- ``extras``: the async facade the flow uses (album art, a playlist per reply)
- ``legacy_recommendations``: opt-in ``/recommendations`` with catalog fallback
- ``track_details`` / ``playlists``: the synchronous work behind the facade
- ``client`` / ``resilience``: spotipy clients and our retry policy
- ``auth`` / ``login``: the owner's token file and the one-time OAuth login
"""
