"""Errors a user can be told about. Each carries a message that is safe to show as is."""

from __future__ import annotations


class AIDJError(Exception):
    """Base of every error whose message is meant for the user (CLI line or chat reply)."""


class BadImageError(AIDJError):
    """The upload is not a usable image: not an image, corrupt, empty, too big, a bomb."""


class BadCaptionError(AIDJError):
    """The caption cannot be read (for example far too long)."""


class ModelLoadError(AIDJError):
    """A model could not be loaded from its configured id or path."""


class WorkerError(AIDJError):
    """The model worker failed, crashed twice in a row, or did not answer in time."""


class CatalogError(AIDJError):
    """The track catalog is missing, empty, malformed or matches nothing."""


class DatabaseBusyError(AIDJError):
    """Another program held the database's write lock past the busy timeout (for example a
    long `aidj catalog import`): the write that waited was not done; retrying later works."""


class ConfigError(AIDJError):
    """A setting in the environment is missing or malformed."""


class RateLimitedError(AIDJError):
    """The user asked too often; ``retry_after`` seconds until the next request is allowed."""

    def __init__(self, message: str, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class NotRequesterError(AIDJError):
    """Someone other than the requester (or a chat admin) tried to steer a playlist."""


class UnknownRequestError(AIDJError):
    """A control was used on a reply the bot has no record of."""
