"""The settings of issue 8: Discord shards, Telegram webhook mode, a self-hosted Bot API.

Each bad value is refused at load time with a ConfigError that names the variable and says
what is wrong; the webhook secret is a secret (never in repr, error messages or log lines).
"""

from __future__ import annotations

import pytest

from adapters.chat.discord_shards import ShardRange
from adapters.redaction import RedactingFilter
from bot.config import load_settings
from core.errors import ConfigError

SECRET = "webhook-secret_0123456789abcdef"
WEBHOOK = {
    "AIDJ_TELEGRAM_WEBHOOK_URL": "https://bot.example.com/aidj/telegram",
    "AIDJ_TELEGRAM_WEBHOOK_SECRET": SECRET,
}


def settings(**env: str):
    return load_settings(env, dotenv=False)


# ---- Discord shards ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("spec", "ids", "count"),
    [
        ("0-3/8", (0, 1, 2, 3), 8),
        ("5/8", (5,), 8),
        ("0-1, 6/8", (0, 1, 6), 8),
        ("0/1", (0,), 1),
    ],
)
def test_a_shard_spec_names_this_processs_shards(spec: str, ids: tuple, count: int) -> None:
    read = settings(AIDJ_DISCORD_SHARDS=spec).discord_shards
    assert read == ShardRange(ids, count)
    options = settings(AIDJ_DISCORD_SHARDS=spec, DISCORD_TOKEN="t").discord_options()
    assert options.shards == ShardRange(ids, count)
    assert ShardRange.parse(str(read)) == read  # the log line writes it back the same way


def test_without_a_shard_spec_one_process_runs_every_shard() -> None:
    assert settings().discord_shards is None
    assert settings(DISCORD_TOKEN="t").discord_options().shards is None


@pytest.mark.parametrize(
    ("spec", "says"),
    [
        ("0-3", "write it as FIRST-LAST/COUNT"),
        ("8/8", "there is no shard 8 of 8: they are numbered 0 to 7"),
        ("2-9/8", "there is no shard 9 of 8"),
        ("3-1/8", "the range 3-1 runs backwards"),
        ("0/0", "the shard count must be at least 1"),
        ("a-b/4", "'a-b' is not a shard number"),
        ("-1/4", "'-1' is not a shard number"),
        ("0-3/x", "write it as FIRST-LAST/COUNT"),
    ],
)
def test_a_bad_shard_spec_is_refused_with_the_reason(spec: str, says: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings(AIDJ_DISCORD_SHARDS=spec)
    message = str(refused.value)
    assert message.startswith(f"AIDJ_DISCORD_SHARDS {spec!r}: ")
    assert says in message
    assert "0-3/8" in message  # an example of the right form


def test_shard_zero_is_where_direct_messages_arrive() -> None:
    assert ShardRange.parse("0-1/4").runs_shard_zero
    assert not ShardRange.parse("2-3/4").runs_shard_zero
    assert str(ShardRange.every(1)) == "0/1" and str(ShardRange.every(4)) == "0-3/4"


# ---- Telegram: a self-hosted Bot API server ----------------------------------------------


def test_the_bot_api_base_fills_the_telegram_options() -> None:
    read = settings(TELEGRAM_TOKEN="1:t", TELEGRAM_API_BASE="http://127.0.0.1:8081/")
    options = read.telegram_options()
    assert options.base_url == "http://127.0.0.1:8081/bot"  # PTB appends the token
    assert options.base_file_url == "http://127.0.0.1:8081/file/bot"

    files_elsewhere = settings(
        TELEGRAM_TOKEN="1:t",
        TELEGRAM_API_BASE="http://bot-api:8081",
        TELEGRAM_FILE_BASE="https://files.example.com",
    ).telegram_options()
    assert files_elsewhere.base_url == "http://bot-api:8081/bot"
    assert files_elsewhere.base_file_url == "https://files.example.com/file/bot"

    default = settings(TELEGRAM_TOKEN="1:t").telegram_options()
    assert (default.base_url, default.base_file_url) == (None, None)  # api.telegram.org


def test_a_bad_bot_api_base_is_refused() -> None:
    for bad in ("127.0.0.1:8081", "ftp://host", "http://"):
        with pytest.raises(ConfigError, match="TELEGRAM_API_BASE must be a http:// or https://"):
            settings(TELEGRAM_API_BASE=bad)
    with pytest.raises(ConfigError, match="TELEGRAM_FILE_BASE is set but TELEGRAM_API_BASE"):
        settings(TELEGRAM_FILE_BASE="http://files:8080")


# ---- Telegram: webhook mode --------------------------------------------------------------


def test_webhook_settings_become_the_webhook_options() -> None:
    options = settings(TELEGRAM_TOKEN="1:t", **WEBHOOK).telegram_options()
    assert options.webhook is not None
    assert options.webhook.url == WEBHOOK["AIDJ_TELEGRAM_WEBHOOK_URL"]
    assert options.webhook.secret == SECRET
    assert (options.webhook.listen, options.webhook.port) == ("127.0.0.1", 8443)
    assert options.webhook.path == "/aidj/telegram"

    listening = settings(
        TELEGRAM_TOKEN="1:t", AIDJ_TELEGRAM_WEBHOOK_LISTEN="0.0.0.0:9000", **WEBHOOK
    ).telegram_options()
    assert listening.webhook is not None
    assert (listening.webhook.listen, listening.webhook.port) == ("0.0.0.0", 9000)

    assert settings(TELEGRAM_TOKEN="1:t").telegram_options().webhook is None  # polling


def test_a_webhook_url_must_be_https() -> None:
    for bad in ("http://bot.example.com/hook", "bot.example.com/hook", "https://"):
        with pytest.raises(ConfigError) as refused:
            settings(**{**WEBHOOK, "AIDJ_TELEGRAM_WEBHOOK_URL": bad})
        assert "AIDJ_TELEGRAM_WEBHOOK_URL must be a https:// URL" in str(refused.value)


def test_a_webhook_needs_its_secret_and_the_secret_its_webhook() -> None:
    with pytest.raises(ConfigError, match="AIDJ_TELEGRAM_WEBHOOK_URL needs AIDJ_TELEGRAM_WEBHOOK_"):
        settings(AIDJ_TELEGRAM_WEBHOOK_URL=WEBHOOK["AIDJ_TELEGRAM_WEBHOOK_URL"])
    for stray in (
        {"AIDJ_TELEGRAM_WEBHOOK_SECRET": SECRET},
        {"AIDJ_TELEGRAM_WEBHOOK_LISTEN": "127.0.0.1:8443"},
    ):
        with pytest.raises(ConfigError, match="but AIDJ_TELEGRAM_WEBHOOK_URL is not"):
            settings(**stray)


@pytest.mark.parametrize("bad", ["has spaces in it", "semi;colon", "x" * 257])
def test_a_secret_telegram_would_refuse_is_refused_without_echoing_it(bad: str) -> None:
    with pytest.raises(ConfigError) as refused:
        settings(**{**WEBHOOK, "AIDJ_TELEGRAM_WEBHOOK_SECRET": bad})
    message = str(refused.value)
    assert "AIDJ_TELEGRAM_WEBHOOK_SECRET must be 1 to 256 characters" in message
    assert bad not in message


def test_the_webhook_secret_stays_out_of_repr_and_logs() -> None:
    read = settings(TELEGRAM_TOKEN="1:t", **WEBHOOK)
    assert SECRET not in repr(read)
    assert SECRET not in repr(read.telegram_options())
    assert SECRET in read.secrets  # what `aidj run` masks in every log line
    line = f"Calling Bot API endpoint `setWebhook` with parameters {{'secret_token': '{SECRET}'}}"
    assert SECRET not in RedactingFilter(read.secrets).redact(line)
