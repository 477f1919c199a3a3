"""Where the model server is and how its Ray Serve deployment is shaped; no Ray import here.

Why apart from ``ModelOptions``: those cross into every replica and say how to read a photo;
these say how many replicas, on what hardware, and how much load each may hold, which only
the deployer needs. ``bot.config.Settings.serve_options`` builds them from the environment.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_APP = "aidj"
# the largest photo a bot sends straight to a replica, by value over Serve's gRPC channel
# (larger ones go through Ray's object store): by value was faster at 400 KB (4.8 against
# 7.8 ms for a no-op call on 2 cores) and slower from 700 KB (10.7 against 8.0 ms)
DIRECT_MAX_BYTES = 512 * 1024
DIRECT_LIMIT_BYTES = 3 * 1024 * 1024  # a replica's gRPC server takes messages up to 4 MiB


@dataclass(frozen=True)
class ModelServer:
    """A Ray cluster address (``auto``, ``host:port`` or ``ray://host:10001``) and the Serve
    application on it that holds the models."""

    address: str
    app: str = DEFAULT_APP

    @classmethod
    def parse(cls, raw: str) -> ModelServer:
        """``ADDRESS[/APP]``: ``ray://head:10001``, ``auto/aidj``, ``10.0.0.5:6379/models``."""
        text = raw.strip()
        scheme, sep, rest = text.rpartition("://")
        location, slash, app = rest.partition("/")
        address = f"{scheme}{sep}{location}"
        if not location or (slash and not app) or "/" in app or (sep and not scheme):
            raise ValueError(raw)
        return cls(address, app or DEFAULT_APP)

    @property
    def through_ray_client(self) -> bool:
        """Whether the bots join through the Ray Client (``ray://``), which reaches only the
        head node: then requests cannot go straight to the replicas."""
        return self.address.startswith("ray://")

    def __str__(self) -> str:
        return f"{self.address}/{self.app}"


def parse_model_server(raw: str) -> ModelServer:
    return ModelServer.parse(raw)


parse_model_server.__name__ = "Ray address with an optional /APP, such as ray://head:10001 or auto"


def parse_replicas(raw: str) -> tuple[int, int]:
    """``N`` (a fixed count) or ``MIN-MAX`` (autoscaled between them), MIN >= 0, MAX >= 1."""
    low, dash, high = raw.strip().partition("-")
    if not low.isdigit() or (dash and not high.isdigit()):
        raise ValueError(raw)
    minimum, maximum = int(low), int(high) if dash else int(low)
    if maximum < 1 or minimum > maximum:
        raise ValueError(raw)
    return minimum, maximum


parse_replicas.__name__ = "replica count N or a range MIN-MAX such as 1-4"


@dataclass(frozen=True)
class ServeOptions:
    """The deployment's shape. Batch size and wait window are the worker's (``ModelOptions``).

    ``max_ongoing``: requests one replica holds at once (at least the batch size, or batches
    never fill); ``max_queued``: requests one caller (a bot process) lets wait for a free
    replica before it refuses more at once with the busy reply.
    """

    min_replicas: int = 1
    max_replicas: int = 1  # above min_replicas: autoscaled
    target_ongoing: float = 8.0  # autoscaling aims at this many requests per replica
    cpus: float = 1.0  # per replica; torch uses as many threads
    gpus: float = 0.0  # per replica; a replica with a GPU runs the models on cuda
    max_ongoing: int = 16
    max_queued: int = 64

    @property
    def autoscaling(self) -> bool:
        return self.max_replicas > self.min_replicas

    def __post_init__(self) -> None:
        if not 0 <= self.min_replicas <= self.max_replicas or self.max_replicas < 1:
            raise ValueError(f"replicas must be 0 <= min <= max and max >= 1, got {self}")
        for name in ("max_ongoing", "max_queued", "target_ongoing"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be above 0, got {getattr(self, name)}")
        for name in ("cpus", "gpus"):
            if getattr(self, name) < 0:
                raise ValueError(
                    f"{name} per replica cannot be negative, got {getattr(self, name)}"
                )
