"""Optional Spotify extras; AI DJ works fully without them (local catalog).

- ``extras``: the async facade the flow uses (album art, a playlist per reply)
- ``legacy_recommendations``: opt-in ``/recommendations`` with catalog fallback
- ``track_details`` / ``playlists``: the synchronous work behind the facade
- ``client`` / ``resilience``: spotipy clients and our retry policy
- ``logs``: what spotipy's loggers may say (no secrets, no ERROR for handled errors)
- ``auth`` / ``login``: the owner's token file and the one-time OAuth login
"""
