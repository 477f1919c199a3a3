"""The message catalogue: every code in both languages, and no English inside Korean."""

from __future__ import annotations

import inspect
import pickle
import re
import string
from enum import Enum

import pytest

import core.messages
from core.errors import BadCaptionError, BadImageError, CatalogError, ProblemError
from core.language import Language
from core.messages import CODES, CaptionProblem, ErrorReply, ImageProblem, file_size, template
from core.reply import error_text

HANGUL = re.compile(r"[\uac00-\ud7a3]")
# Latin words a Korean text may hold: file formats, units, commands, the "x" of "640x480"
_LATIN_IN_KOREAN = frozenset({"JPEG", "PNG", "WebP", "GIF", "MB", "KB", "B", "x", "mood", "help"})


def english_words(text: str) -> list[str]:
    """Latin-script words in ``text`` other than formats, units and commands: what a Korean
    reply must not contain."""
    return [word for word in re.findall(r"[A-Za-z]+", text) if word not in _LATIN_IN_KOREAN]


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def every_code() -> list[Enum]:
    return [code for kind in CODES for code in kind]


def dummy_values(code: Enum) -> dict[str, object]:
    """A value (a number: values are language-neutral) for each field the code's text has."""
    return dict.fromkeys(fields(template(code, Language.EN)), 7)


def test_codes_lists_every_enum_of_the_catalogue():
    defined = {
        value
        for _, value in inspect.getmembers(core.messages, inspect.isclass)
        if issubclass(value, Enum) and value.__module__ == core.messages.__name__
    }
    assert defined == set(CODES)


@pytest.mark.parametrize("code", every_code(), ids=str)
def test_every_code_has_a_korean_and_an_english_text(code):
    korean = template(code, Language.KO)
    english = template(code, Language.EN)
    assert HANGUL.search(korean), korean
    assert not HANGUL.search(english), english
    assert english.strip() and english != korean
    # the Korean text needs no value the English one is not given as well
    assert fields(korean) <= fields(english)


@pytest.mark.parametrize("code", [*ImageProblem, *CaptionProblem], ids=str)
def test_a_problem_is_told_entirely_in_the_users_language(code):
    kind = BadImageError if isinstance(code, ImageProblem) else BadCaptionError
    error = kind(code, **dummy_values(code))
    korean = error_text(error, Language.KO)
    assert korean.startswith(template(error.reply, Language.KO).split("{")[0])
    assert english_words(korean) == [], korean
    english = error_text(error, Language.EN)
    assert english.endswith(str(error))  # the log / CLI message is the English text


def test_error_messages_stay_english_for_logs_and_the_cli():
    error = BadCaptionError(CaptionProblem.TOO_LONG, length=612, limit=500)
    assert str(error) == (
        "The caption is too long (612 characters); the limit is 500. Please shorten it."
    )
    assert error_text(error, Language.KO) == (
        "캡션 문제: 캡션이 너무 길어요 (612자). 최대 500자까지예요. 줄여서 보내 주세요."
    )


def test_a_catalog_errors_english_detail_stays_out_of_korean_replies():
    error = CatalogError("the track catalog is empty: run `aidj catalog import`")
    assert error_text(error, Language.EN).endswith(str(error))
    korean = error_text(error, Language.KO)
    assert korean == template(ErrorReply.CATALOG, Language.KO)
    assert english_words(korean) == []


def test_unknown_errors_get_the_generic_reply_without_details():
    for language in Language:
        text = error_text(RuntimeError("secret internals"), language)
        assert text == template(ErrorReply.GENERIC, language)


def test_a_problem_error_survives_pickling_with_its_code_and_values():
    """The model worker sends these between processes."""
    error = BadImageError(ImageProblem.TOO_MANY_PIXELS, size=" (9x9)", megapixels="0.1")
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is BadImageError and isinstance(copy, ProblemError)
    assert (copy.problem, copy.values, str(copy)) == (error.problem, error.values, str(error))


@pytest.mark.parametrize(
    ("size", "text"),
    [(10 * 1024 * 1024, "10 MB"), (12_345_678, "11.8 MB"), (300_000, "292 KB"), (100, "100 B")],
)
def test_file_sizes_read_the_same_in_both_languages(size, text):
    assert file_size(size) == text
