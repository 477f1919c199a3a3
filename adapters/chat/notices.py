"""When a refusal is worth a chat message: the rule both chat adapters follow.

Why: a user who floods the bot (500 reactions, a burst of photos) must not make it flood
the chat back. A photo's own problem (not an image, too big) is always answered, since the
photo rate limit already bounds how often that can happen; a "slow down" for photos, and
any failure of a reaction (which has no popup to answer with), is said at most once per
user and chat per window. Button presses never need this: they are answered with a popup.
"""

from __future__ import annotations

from core.errors import RateLimitedError
from core.ratelimit import SlidingWindowLimiter

NOTICE_WINDOW_S = 60.0


class NoticeGate:
    def __init__(self, window_s: float = NOTICE_WINDOW_S) -> None:
        self._once = SlidingWindowLimiter(1, window_s)

    def for_photo(self, error: BaseException, chat_id: object, user_id: object) -> bool:
        """Whether to answer a failed photo request with a message."""
        return not isinstance(error, RateLimitedError) or self._once.allow((chat_id, user_id))

    def for_control(self, chat_id: object, user_id: object) -> bool:
        """Whether to answer a failed reaction with a message."""
        return self._once.allow((chat_id, user_id))
