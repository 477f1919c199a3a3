"""Pictures the bots attach to their replies (the mood plane)."""

from adapters.render.mood_plane import render_mood_plane

__all__ = ["render_mood_plane"]
