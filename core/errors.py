"""Errors a user can be told about.

Each message (``str(error)``) is readable English, for logs and the CLI. A chat reply is
chosen by ``reply`` instead (``core.reply.error_text``), in the user's language; errors
about the user's own input name their problem by code (``ProblemError``), so the reply can
say it in Korean too.
"""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar, Generic, TypeVar

from core.language import Language
from core.messages import CaptionProblem, ErrorReply, ImageProblem, text_of

P = TypeVar("P", ImageProblem, CaptionProblem)


class AIDJError(Exception):
    """Base of every error whose message is meant for the user (CLI line or chat reply)."""

    reply: ClassVar[ErrorReply] = ErrorReply.GENERIC


class ProblemError(AIDJError, Generic[P]):
    """An error about the user's input: a problem code and the values its text needs."""

    def __init__(self, problem: P, /, **values: object) -> None:
        super().__init__(text_of(problem, Language.EN, **values))
        self.problem: P = problem
        self.values = values

    def __reduce__(self) -> tuple[Any, ...]:
        # Exceptions pickle as ``cls(*args)``, and args is the English text; the model worker
        # sends these between processes, so they are rebuilt from the code and the values.
        return (_rebuild, (type(self), self.problem, self.values))


def _rebuild(cls: type[ProblemError[Any]], problem: Enum, values: dict[str, object]) -> Any:
    return cls(problem, **values)


class BadImageError(ProblemError[ImageProblem]):
    """The upload is not a usable image: not an image, corrupt, empty, too big, a bomb."""

    reply = ErrorReply.IMAGE


class BadCaptionError(ProblemError[CaptionProblem]):
    """The caption cannot be read (for example far too long)."""

    reply = ErrorReply.CAPTION


class InputFileError(AIDJError):
    """A file named on the command line cannot be read (the CLI's own: never a chat reply)."""


class ModelLoadError(AIDJError):
    """A model could not be loaded from its configured id or path."""


class WorkerError(AIDJError):
    """The model worker failed, crashed twice in a row, or did not answer in time."""

    reply = ErrorReply.WORKER


class CatalogError(AIDJError):
    """The track catalog is missing, empty, malformed or matches nothing."""

    reply = ErrorReply.CATALOG


class DatabaseBusyError(AIDJError):
    """Another program held the database's write lock past the busy timeout (for example a
    long `aidj catalog import`): the write that waited was not done; retrying later works."""

    reply = ErrorReply.DATABASE_BUSY


class ConfigError(AIDJError):
    """A setting in the environment is missing or malformed."""


class RateLimitedError(AIDJError):
    """The user asked too often; ``retry_after`` seconds until the next request is allowed."""

    reply = ErrorReply.RATE_LIMITED

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotRequesterError(AIDJError):
    """Someone other than the requester (or a chat admin) tried to steer a playlist."""

    reply = ErrorReply.NOT_REQUESTER


class UnknownRequestError(AIDJError):
    """A control was used on a reply the bot has no record of."""

    reply = ErrorReply.UNKNOWN_REQUEST


class NotForAlbumsError(AIDJError):
    """A control an album's card does not have (a journey: an album's path is its photos'),
    pressed from a stale or forged button."""

    reply = ErrorReply.NOT_FOR_ALBUMS


class SceneNotOfferedError(AIDJError):
    """A scene button for a scene the card does not (or no longer) offer: a stale card, a
    second pick, or a forged value."""

    reply = ErrorReply.SCENE_NOT_OFFERED


class NotInChatError(NotRequesterError):
    """A 👍 / 👎 on a card from outside the chat it was made in: anyone in that chat may rate
    a card, nobody elsewhere (refused like any control someone may not use)."""

    reply = ErrorReply.NOT_IN_CHAT
