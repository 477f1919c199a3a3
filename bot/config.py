"""Settings, read once from the environment (and a `.env` file when present).

Every knob has a default that works on a laptop; secrets (chat tokens, Spotify credentials)
are only ever read here and are kept out of ``repr`` so they never reach a log line.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from platformdirs import user_config_dir, user_data_dir

from adapters.chat.discord_shards import ShardRange
from adapters.images import MAX_IMAGE_BYTES, MAX_IMAGE_PIXELS
from adapters.models.options import (
    CLIP_RUNTIMES,
    DEFAULT_CLIP_MODEL,
    DEFAULT_NLI_MODEL,
    QUANTIZE_CHOICES,
    ModelOptions,
)
from adapters.models.serve_options import (
    DIRECT_LIMIT_BYTES,
    DIRECT_MAX_BYTES,
    ModelServer,
    ServeOptions,
    parse_model_server,
    parse_replicas,
)
from core.errors import ConfigError
from core.scene_choice import DEFAULT_MARGIN as DEFAULT_SCENE_CHOICE_MARGIN
from core.taste import TasteRule
from core.tuning import DEFAULT_DELTA_MAX

if TYPE_CHECKING:
    from adapters.chat.discord_bot import DiscordOptions
    from adapters.chat.telegram_bot import TelegramOptions

APP_NAME = "aidj"


def _secret() -> str | None:
    return field(default=None, repr=False)


@dataclass(frozen=True)
class Settings:
    clip_model: str = DEFAULT_CLIP_MODEL
    nli_model: str = DEFAULT_NLI_MODEL
    device: str = "cpu"
    torch_threads: int = 0  # 0: let torch decide
    quantize: str = QUANTIZE_CHOICES[0]  # "int8": both models' Linear layers in int8 (README)
    clip_runtime: str = CLIP_RUNTIMES[0]  # "onnxruntime": CLIP's image tower on ONNX Runtime
    delta_max: float = DEFAULT_DELTA_MAX
    db_path: Path = Path(user_data_dir(APP_NAME)) / "aidj.db"
    config_dir: Path = Path(user_config_dir(APP_NAME))
    max_image_bytes: int = MAX_IMAGE_BYTES
    max_image_pixels: int = MAX_IMAGE_PIXELS
    max_caption_chars: int = 500
    worker_batch_size: int = 8
    worker_batch_wait_ms: int = 15
    worker_timeout_s: float = 60.0
    worker_start_timeout_s: float = 300.0
    # the models on Ray Serve instead of a local worker ("ray://head:10001", "auto/aidj")
    model_server: ModelServer | None = None
    # the Serve deployment (`aidj models serve`): replicas "N" or autoscaled "MIN-MAX"
    serve_replicas: tuple[int, int] = (1, 1)
    serve_target_ongoing: float = 8.0
    serve_cpus: float = 1.0
    serve_gpus: float = 0.0
    serve_max_ongoing: int = 16
    serve_max_queued: int = 64
    # the bots' side: photos up to this size go straight to a replica (0: all through Ray)
    serve_direct_max_kb: int = DIRECT_MAX_BYTES // 1024
    recommend_count: int = 10
    nudge_step: float = 0.15
    # a caption's destination reading at least this sure picks a journey; None: never
    # (and the model step skips that reading)
    journey_threshold: float | None = None
    # ask which scene it is when CLIP's best two are this close in probability (0: never)
    scene_choice_margin: float = DEFAULT_SCENE_CHOICE_MARGIN
    # each chat's taste (core.taste): presses of one nudge before a scene's base moves (0:
    # off), how fast old presses fade, and the largest move per axis
    taste_min_presses: int = 5
    taste_half_life_days: float = 14.0
    taste_max_shift: float = 0.1
    rate_limit_per_minute: int = 6
    recommender: str = "catalog"  # "catalog" or "spotify" (legacy, opt-in)
    discord_channels: frozenset[int] = frozenset()  # answer photos here without a mention
    discord_sync_guild: int | None = None  # sync slash commands to one guild (instant)
    discord_token: str | None = _secret()
    # "0-3/8": this process runs shards 0 to 3 of 8; None: every shard, in this process
    discord_shards: ShardRange | None = None
    telegram_token: str | None = _secret()
    # a self-hosted Telegram Bot API server ("http://127.0.0.1:8081"); None: api.telegram.org
    telegram_api_base: str | None = None
    telegram_file_base: str | None = None  # where it serves downloads, if not the API base
    # webhook mode (an https URL Telegram POSTs updates to); None: long polling
    telegram_webhook_url: str | None = None
    telegram_webhook_listen: tuple[str, int] | None = None  # None: the adapter's default
    telegram_webhook_secret: str | None = _secret()  # every webhook request must carry it
    # an album (media group) is answered once no photo of it arrived for this long
    telegram_album_wait_s: float = 1.5
    spotify_client_id: str | None = _secret()
    spotify_client_secret: str | None = _secret()
    spotify_redirect_uri: str = "http://127.0.0.1:8888/callback"
    # A country code ("KR") sent as market= on track lookups: Spotify no longer tells
    # development-mode apps where a track plays, only whether it plays in a given market.
    spotify_market: str | None = None
    # `aidj run` serves /healthz and /metrics here when set ("127.0.0.1:9108")
    health_address: tuple[str, int] | None = None
    log_format: str = "text"  # or "json": one JSON object per log line

    def taste_rule(self) -> TasteRule:
        """How a chat's presses move its scenes' bases (AIDJ_TASTE_*, AIDJ_NUDGE_STEP)."""
        return TasteRule(
            min_presses=self.taste_min_presses,
            half_life_days=self.taste_half_life_days,
            max_shift=self.taste_max_shift,
            step=self.nudge_step,
        )

    @property
    def read_destinations(self) -> bool:
        """Whether the model step reads captions' destinations (for ``model_options``)."""
        return self.journey_threshold is not None

    def model_options(self) -> ModelOptions:
        """The model step's share of the settings (no secrets: it crosses processes)."""
        names = {f.name for f in fields(ModelOptions)}
        return ModelOptions(**{name: getattr(self, name) for name in names})

    def serve_options(self) -> ServeOptions:
        """The Ray Serve deployment's shape (AIDJ_SERVE_*)."""
        return ServeOptions(
            min_replicas=self.serve_replicas[0],
            max_replicas=self.serve_replicas[1],
            target_ongoing=self.serve_target_ongoing,
            cpus=self.serve_cpus,
            gpus=self.serve_gpus,
            max_ongoing=self.serve_max_ongoing,
            max_queued=self.serve_max_queued,
        )

    def telegram_options(self) -> TelegramOptions:
        # the chat libraries are heavy: imported only when a bot is built
        from adapters.chat.telegram_bot import TelegramOptions, TelegramWebhook, bot_api_urls

        base_url = base_file_url = None
        if self.telegram_api_base:
            base_url, base_file_url = bot_api_urls(self.telegram_api_base, self.telegram_file_base)
        webhook = None
        if self.telegram_webhook_url and self.telegram_webhook_secret:
            webhook = TelegramWebhook(self.telegram_webhook_url, self.telegram_webhook_secret)
            if self.telegram_webhook_listen is not None:
                host, port = self.telegram_webhook_listen
                webhook = dataclasses.replace(webhook, listen=host, port=port)
        return TelegramOptions(
            token=self.telegram_token,
            max_image_bytes=self.max_image_bytes,
            base_url=base_url,
            base_file_url=base_file_url,
            webhook=webhook,
            album_wait_s=self.telegram_album_wait_s,
        )

    def discord_options(self) -> DiscordOptions:
        from adapters.chat.discord_bot import DiscordOptions

        return DiscordOptions(
            token=self.discord_token,
            max_image_bytes=self.max_image_bytes,
            enabled_channel_ids=self.discord_channels,
            sync_guild_id=self.discord_sync_guild,
            shards=self.discord_shards,
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """Every secret value set, for log redaction."""
        values = (
            self.discord_token,
            self.telegram_token,
            self.spotify_client_id,
            self.spotify_client_secret,
            self.telegram_webhook_secret,
        )
        return tuple(v for v in values if v)


def _threshold_or_off(raw: str) -> float | None:
    """A probability, or "off"."""
    if raw.lower() == "off":
        return None
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError(raw)
    return value


_threshold_or_off.__name__ = "number within [0, 1] or off"


def _id_set(raw: str) -> frozenset[int]:
    """Comma-separated numeric ids, e.g. Discord channel ids."""
    return frozenset(int(part) for part in raw.replace(" ", "").split(",") if part)


_id_set.__name__ = "comma-separated list of numbers"


def _country(raw: str) -> str:
    """An ISO 3166-1 alpha-2 country code, as Spotify's ``market`` takes it."""
    if len(raw) != 2 or not raw.isascii() or not raw.isalpha():
        raise ValueError(raw)
    return raw.upper()


_country.__name__ = "two-letter country code such as KR"


def _address(raw: str) -> tuple[str, int]:
    """``host:port`` (``[::1]:9108`` for IPv6), port 0 to 65535."""
    host, sep, port = raw.rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(raw)
    return host, int(port)


_address.__name__ = "host:port such as 127.0.0.1:9108"


class _Invalid(ValueError):
    """A value a parser can say more about than "must be a ..." (the reason is shown)."""


def _shards(raw: str) -> ShardRange:
    try:
        return ShardRange.parse(raw)
    except ValueError as error:
        raise _Invalid(f"{error} (e.g. 0-3/8: this process runs shards 0 to 3 of 8)") from None


def _url(raw: str, schemes: tuple[str, ...]) -> str:
    parts = urlsplit(raw)
    if parts.scheme.lower() not in schemes or not parts.hostname or parts.fragment:
        raise ValueError(raw)
    return raw.rstrip("/")


def _server_url(raw: str) -> str:
    """A server's root URL: http or https (a self-hosted Bot API often runs on plain http
    next to the bot)."""
    return _url(raw, ("http", "https"))


_server_url.__name__ = "http:// or https:// URL such as http://127.0.0.1:8081"


def _webhook_url(raw: str) -> str:
    """Telegram delivers webhooks over HTTPS only."""
    return _url(raw, ("https",))


_webhook_url.__name__ = "https:// URL (Telegram delivers webhooks over HTTPS only)"

# environment variable -> (field name, parser)
_ENV: dict[str, tuple[str, Callable[[str], object]]] = {
    "AIDJ_CLIP_MODEL": ("clip_model", str),
    "AIDJ_NLI_MODEL": ("nli_model", str),
    "AIDJ_DEVICE": ("device", str),
    "AIDJ_TORCH_THREADS": ("torch_threads", int),
    "AIDJ_QUANTIZE": ("quantize", str.lower),
    "AIDJ_CLIP_RUNTIME": ("clip_runtime", str.lower),
    "AIDJ_DELTA_MAX": ("delta_max", float),
    "AIDJ_DB": ("db_path", Path),
    "AIDJ_CONFIG_DIR": ("config_dir", Path),
    "AIDJ_MAX_IMAGE_BYTES": ("max_image_bytes", int),
    "AIDJ_MAX_IMAGE_PIXELS": ("max_image_pixels", int),
    "AIDJ_MAX_CAPTION_CHARS": ("max_caption_chars", int),
    "AIDJ_WORKER_BATCH_SIZE": ("worker_batch_size", int),
    "AIDJ_WORKER_BATCH_WAIT_MS": ("worker_batch_wait_ms", int),
    "AIDJ_WORKER_TIMEOUT_S": ("worker_timeout_s", float),
    "AIDJ_WORKER_START_TIMEOUT_S": ("worker_start_timeout_s", float),
    "AIDJ_MODEL_SERVER": ("model_server", parse_model_server),
    "AIDJ_SERVE_REPLICAS": ("serve_replicas", parse_replicas),
    "AIDJ_SERVE_TARGET_ONGOING": ("serve_target_ongoing", float),
    "AIDJ_SERVE_CPUS": ("serve_cpus", float),
    "AIDJ_SERVE_GPUS": ("serve_gpus", float),
    "AIDJ_SERVE_MAX_ONGOING": ("serve_max_ongoing", int),
    "AIDJ_SERVE_MAX_QUEUED": ("serve_max_queued", int),
    "AIDJ_SERVE_DIRECT_MAX_KB": ("serve_direct_max_kb", int),
    "AIDJ_RECOMMEND_COUNT": ("recommend_count", int),
    "AIDJ_NUDGE_STEP": ("nudge_step", float),
    "AIDJ_JOURNEY_THRESHOLD": ("journey_threshold", _threshold_or_off),
    "AIDJ_SCENE_CHOICE_MARGIN": ("scene_choice_margin", float),
    "AIDJ_TASTE_MIN_PRESSES": ("taste_min_presses", int),
    "AIDJ_TASTE_HALF_LIFE_DAYS": ("taste_half_life_days", float),
    "AIDJ_TASTE_MAX_SHIFT": ("taste_max_shift", float),
    "AIDJ_RATE_LIMIT_PER_MINUTE": ("rate_limit_per_minute", int),
    "AIDJ_RECOMMENDER": ("recommender", str),
    "AIDJ_DISCORD_CHANNELS": ("discord_channels", _id_set),
    "AIDJ_DISCORD_SYNC_GUILD": ("discord_sync_guild", int),
    "DISCORD_TOKEN": ("discord_token", str),
    "TELEGRAM_TOKEN": ("telegram_token", str),
    "AIDJ_DISCORD_SHARDS": ("discord_shards", _shards),
    "TELEGRAM_API_BASE": ("telegram_api_base", _server_url),
    "TELEGRAM_FILE_BASE": ("telegram_file_base", _server_url),
    "AIDJ_TELEGRAM_WEBHOOK_URL": ("telegram_webhook_url", _webhook_url),
    "AIDJ_TELEGRAM_WEBHOOK_LISTEN": ("telegram_webhook_listen", _address),
    "AIDJ_TELEGRAM_WEBHOOK_SECRET": ("telegram_webhook_secret", str),
    "AIDJ_TELEGRAM_ALBUM_WAIT_S": ("telegram_album_wait_s", float),
    "SPOTIFY_CLIENT_ID": ("spotify_client_id", str),
    "SPOTIFY_CLIENT_SECRET": ("spotify_client_secret", str),
    "SPOTIFY_REDIRECT_URI": ("spotify_redirect_uri", str),
    "SPOTIFY_MARKET": ("spotify_market", _country),
    "AIDJ_HEALTH_ADDRESS": ("health_address", _address),
    "AIDJ_LOG_FORMAT": ("log_format", str),
}


def load_settings(
    environ: dict[str, str] | None = None, *, dotenv: bool = True, **overrides: object
) -> Settings:
    """Settings from ``environ`` (default: the process environment), then ``overrides``.

    A `.env` file in the working directory is read first when ``dotenv`` is true; variables
    already set in the environment win over it. (Only there: python-dotenv's own search
    starts from the calling code's folder, which is wherever aidj is installed.)
    """
    if environ is None:
        if dotenv:
            from dotenv import load_dotenv

            load_dotenv(Path.cwd() / ".env", override=False)
        environ = dict(os.environ)
    values: dict[str, object] = {}
    for name, (attribute, parse) in _ENV.items():
        raw = environ.get(name)
        if raw is None or raw.strip() == "":
            continue
        try:
            values[attribute] = parse(raw.strip())
        except _Invalid as error:
            raise ConfigError(f"{name} {raw!r}: {error}") from None
        except ValueError:
            kind = getattr(parse, "__name__", "value")
            raise ConfigError(f"{name} must be a {kind}, got {raw!r}") from None
    known = {f.name for f in fields(Settings)}
    for key, value in overrides.items():
        if key not in known:
            raise TypeError(f"unknown setting {key!r}")
        if value is not None:
            values[key] = value
    settings = Settings(**values)  # type: ignore[arg-type]
    _validate(settings)
    return settings


def _check_cpu_option(variable: str, value: str, choices: tuple[str, ...], device: str) -> None:
    """One of ``choices``, whose first is the default; any other runs on the CPU only."""
    if value not in choices:
        names = " or ".join(repr(choice) for choice in choices)
        raise ConfigError(f"{variable} must be {names}, got {value!r}")
    if value != choices[0] and device != "cpu":
        raise ConfigError(f"{variable}={value} runs on the CPU only; unset it or AIDJ_DEVICE")


def _validate(settings: Settings) -> None:
    if not 0.0 <= settings.delta_max <= 1.0:
        raise ConfigError(f"AIDJ_DELTA_MAX must be within [0, 1], got {settings.delta_max}")
    if settings.recommender not in ("catalog", "spotify"):
        raise ConfigError(
            f"AIDJ_RECOMMENDER must be 'catalog' or 'spotify', got {settings.recommender!r}"
        )
    if settings.log_format not in ("text", "json"):
        raise ConfigError(f"AIDJ_LOG_FORMAT must be 'text' or 'json', got {settings.log_format!r}")
    _check_cpu_option("AIDJ_QUANTIZE", settings.quantize, QUANTIZE_CHOICES, settings.device)
    _check_cpu_option("AIDJ_CLIP_RUNTIME", settings.clip_runtime, CLIP_RUNTIMES, settings.device)
    if not 0.0 < settings.nudge_step <= 1.0:
        raise ConfigError(f"AIDJ_NUDGE_STEP must be within (0, 1], got {settings.nudge_step}")
    threshold = settings.journey_threshold
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise ConfigError(f"AIDJ_JOURNEY_THRESHOLD must be within [0, 1] or off, got {threshold}")
    if not 0.0 <= settings.scene_choice_margin <= 1.0:
        raise ConfigError(
            "AIDJ_SCENE_CHOICE_MARGIN must be within [0, 1] (0: never ask), "
            f"got {settings.scene_choice_margin}"
        )
    _validate_taste(settings)
    _validate_telegram(settings)
    try:
        settings.serve_options()
    except ValueError as error:
        raise ConfigError(f"AIDJ_SERVE_* settings: {error}") from None
    if not 0 <= settings.serve_direct_max_kb * 1024 <= DIRECT_LIMIT_BYTES:
        raise ConfigError(
            f"AIDJ_SERVE_DIRECT_MAX_KB must be within [0, {DIRECT_LIMIT_BYTES // 1024}] "
            f"(0: every photo through Ray), got {settings.serve_direct_max_kb}"
        )


def _validate_taste(settings: Settings) -> None:
    if settings.taste_min_presses < 0:
        raise ConfigError(
            f"AIDJ_TASTE_MIN_PRESSES must be 0 (off) or more, got {settings.taste_min_presses}"
        )
    if not settings.taste_half_life_days > 0.0:
        raise ConfigError(
            f"AIDJ_TASTE_HALF_LIFE_DAYS must be more than 0, got {settings.taste_half_life_days}"
        )
    if not 0.0 <= settings.taste_max_shift <= 0.5:
        raise ConfigError(
            f"AIDJ_TASTE_MAX_SHIFT must be within [0, 0.5], got {settings.taste_max_shift}"
        )


_WEBHOOK_SECRET = re.compile(r"^[A-Za-z0-9_-]{1,256}$")  # what setWebhook accepts
_ALBUM_WAIT_MAX_S = 30.0  # longer, and the album's sender would think the bot is gone


def _validate_telegram(settings: Settings) -> None:
    """Webhook mode needs its URL and secret together; the secret is never echoed."""
    url, secret = settings.telegram_webhook_url, settings.telegram_webhook_secret
    if url and not secret:
        raise ConfigError(
            "AIDJ_TELEGRAM_WEBHOOK_URL needs AIDJ_TELEGRAM_WEBHOOK_SECRET: a random token that "
            "every webhook request must carry (e.g. `openssl rand -hex 32`)"
        )
    if secret and not _WEBHOOK_SECRET.fullmatch(secret):
        raise ConfigError(
            "AIDJ_TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters, only letters, digits, "
            f"_ and - (Telegram's rule); the one set has {len(secret)} character(s)"
        )
    if not url and (secret or settings.telegram_webhook_listen):
        raise ConfigError(
            "AIDJ_TELEGRAM_WEBHOOK_SECRET or _LISTEN is set but AIDJ_TELEGRAM_WEBHOOK_URL is "
            "not: set the URL for webhook mode, or unset them to poll"
        )
    if settings.telegram_file_base and not settings.telegram_api_base:
        raise ConfigError("TELEGRAM_FILE_BASE is set but TELEGRAM_API_BASE is not")
    if not 0.0 < settings.telegram_album_wait_s <= _ALBUM_WAIT_MAX_S:
        raise ConfigError(
            f"AIDJ_TELEGRAM_ALBUM_WAIT_S must be within (0, {_ALBUM_WAIT_MAX_S:g}] seconds, "
            f"got {settings.telegram_album_wait_s}"
        )
