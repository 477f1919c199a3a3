"""Settings, rate limiting, steering, reply language and reply wording."""

import pytest

from bot.config import load_settings
from core.errors import BadImageError, ConfigError, RateLimitedError, WorkerError
from core.language import Language, chat_locale_hint, reply_language
from core.messages import ImageProblem
from core.mood import Analysis, AxisReading, ImageReading, MoodPoint, Reading, TextReading
from core.ratelimit import SlidingWindowLimiter
from core.reply import PlaylistCard, axis_move, error_text, summary_lines, title
from core.steering import Action, steer


def test_settings_read_the_environment_and_hide_secrets():
    settings = load_settings(
        {"AIDJ_DELTA_MAX": "0.4", "AIDJ_CLIP_MODEL": "/models/clip", "TELEGRAM_TOKEN": "123:abc"}
    )
    assert settings.delta_max == 0.4
    assert settings.clip_model == "/models/clip"
    assert settings.secrets == ("123:abc",)
    assert "123:abc" not in repr(settings)


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"AIDJ_DELTA_MAX": "lots"}, "AIDJ_DELTA_MAX must be a float"),
        ({"AIDJ_DELTA_MAX": "2"}, "within"),
        ({"AIDJ_RECOMMENDER": "magic"}, "AIDJ_RECOMMENDER"),
        ({"AIDJ_QUANTIZE": "int4"}, "AIDJ_QUANTIZE must be 'none' or 'int8'"),
        ({"AIDJ_QUANTIZE": "int8", "AIDJ_DEVICE": "cuda"}, "CPU only"),
        ({"AIDJ_CLIP_RUNTIME": "tensorrt"}, "AIDJ_CLIP_RUNTIME must be 'torch' or 'onnxruntime'"),
        ({"AIDJ_CLIP_RUNTIME": "onnxruntime", "AIDJ_DEVICE": "cuda"}, "AIDJ_CLIP_RUNTIME=.*CPU"),
    ],
)
def test_bad_settings_are_named(env, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(env)


def test_quantize_is_off_unless_asked_for():
    assert load_settings({}).quantize == "none"
    assert load_settings({"AIDJ_QUANTIZE": "INT8"}).quantize == "int8"


def test_clip_runs_in_torch_unless_asked_for():
    assert load_settings({}).model_options().clip_runtime == "torch"
    asked = load_settings({"AIDJ_CLIP_RUNTIME": "OnnxRuntime"}).model_options()
    assert asked.clip_runtime == "onnxruntime"


def test_discord_channel_list_parses_and_rejects_junk():
    settings = load_settings({"AIDJ_DISCORD_CHANNELS": "12, 34,56", "AIDJ_DISCORD_SYNC_GUILD": "9"})
    assert settings.discord_channels == frozenset({12, 34, 56})
    assert settings.discord_sync_guild == 9
    with pytest.raises(ConfigError, match="AIDJ_DISCORD_CHANNELS"):
        load_settings({"AIDJ_DISCORD_CHANNELS": "general"})


def test_overrides_win_over_the_environment():
    settings = load_settings({"AIDJ_NLI_MODEL": "env"}, nli_model="flag")
    assert settings.nli_model == "flag"


def test_rate_limiter_allows_the_limit_then_says_when_to_retry():
    now = [0.0]
    limiter = SlidingWindowLimiter(2, 60.0, clock=lambda: now[0])
    limiter.check("u1")
    now[0] = 10.0
    limiter.check("u1")
    limiter.check("u2")  # other users are not affected
    with pytest.raises(RateLimitedError) as caught:
        limiter.check("u1")
    assert caught.value.retry_after == pytest.approx(50.0)
    now[0] = 60.0  # the first request left the window
    limiter.check("u1")


def test_steering_moves_one_axis_and_clamps():
    point = MoodPoint(0.5, 0.9)
    assert steer(point, Action.MORE_ENERGY, 0.15) == MoodPoint(0.5, 1.0)
    assert steer(point, Action.CALMER, 0.15).energy == pytest.approx(0.75)
    assert steer(point, Action.HAPPIER, 0.15).valence == pytest.approx(0.65)
    assert steer(point, Action.SADDER, 0.15).valence == pytest.approx(0.35)
    assert steer(point, Action.REGENERATE, 0.15) == point


def test_emoji_maps_to_actions_with_or_without_variation_selector():
    assert Action.from_emoji("🔁") is Action.REGENERATE
    assert Action.from_emoji("☀") is Action.HAPPIER
    assert Action.from_emoji("☀️") is Action.HAPPIER
    assert Action.from_emoji("👍") is None


@pytest.mark.parametrize(
    ("locale", "caption", "expected"),
    [
        ("ko", "", "ko"),
        ("ko-KR", "hello", "ko"),
        ("en-US", "비가 와", "en"),
        (None, "비가 와", "ko"),
        (None, "rain", "en"),
    ],
)
def test_reply_language(locale, caption, expected):
    assert reply_language(locale, caption) is Language(expected)


@pytest.mark.parametrize(
    ("caption", "chat_locale", "expected"),
    [
        ("비가 와", "en-US", "ko"),  # the caption says more of the user than the server
        ("rain", "ko", "ko"),  # an English caption: the server's locale decides
        ("", "ko", "ko"),
        ("rain", "en-GB", "en"),
        ("rain", None, "en"),
    ],
)
def test_a_chats_locale_comes_after_the_captions_script(caption, chat_locale, expected):
    locale = chat_locale_hint(chat_locale, caption)
    assert reply_language(locale, caption) is Language(expected)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ko", Language.KO),
        ("KO_kr", Language.KO),
        (Language.KO, Language.KO),
        ("kok", Language.EN),
        ("en-GB", Language.EN),
        ("fr", Language.EN),
        ("", Language.EN),
        (None, Language.EN),
    ],
)
def test_language_of_normalises_any_locale_or_code(value, expected):
    assert Language.of(value) is expected


def _card(language: str, text: TextReading) -> PlaylistCard:
    analysis = Analysis(
        reading=Reading(ImageReading("rainy_day", 0.963, {}), text),
        base=MoodPoint(0.25, 0.30),
        final=MoodPoint(0.68, 0.80),
        seed_genres=("acoustic",),
        base_source="defaults",
    )
    return PlaylistCard(1, language, analysis, analysis.final, (), 0.5)


def test_card_explains_scene_values_and_what_the_caption_moved():
    text = TextReading(AxisReading("positive", 1, 0.858), AxisReading("energetic", 1, 0.993))
    lines = summary_lines(_card("en", text))
    assert lines[0] == "Scene: Rainy day (96%)"
    assert "0.25 → 0.68" in lines[1] and "0.30 → 0.80" in lines[1]
    assert "positive 0.86 → valence +0.43" in lines[2]
    assert "energetic 0.99 → energy +0.50" in lines[2]
    assert any("defaults" in line for line in lines)
    assert title(_card("ko", text)) == "AI DJ · 비 오는 날"


def test_neutral_axis_has_no_move_line():
    assert axis_move("valence", AxisReading.neutral(), 0.5, "en") is None
    lines = summary_lines(_card("ko", TextReading.neutral()))
    assert "사진의 분위기 그대로" in lines[2]


def test_error_text_is_friendly_and_localised():
    not_an_image = BadImageError(ImageProblem.NOT_AN_IMAGE)
    assert "not an image" in error_text(not_an_image, Language.EN)
    assert "이미지가 아니에요" in error_text(not_an_image, Language.KO)
    assert error_text(RateLimitedError("x", 12.4), "ko").startswith("조금만")
    assert "12" in error_text(RateLimitedError("x", 12.4), "en")
    assert "try again" in error_text(WorkerError("boom"), "en")
    generic = error_text(RuntimeError("secret internals"), "en")
    assert "secret" not in generic
