"""The category table is data the whole product leans on: check its invariants."""

import pytest

from core.categories import CATEGORIES, CATEGORY_BY_ID, get_category
from core.language import caption_language
from core.text_axes import TEXT_AXES, hypotheses_for


def test_twelve_distinct_categories():
    assert len(CATEGORIES) == 12
    assert len(CATEGORY_BY_ID) == 12


@pytest.mark.parametrize("category", CATEGORIES, ids=lambda c: c.id)
def test_category_is_complete(category):
    assert category.name_en and category.name_ko
    assert len(category.prompts) >= 3, "prompt ensembling needs several phrasings"
    assert len(set(category.prompts)) == len(category.prompts)
    assert category.seed_genres
    assert all(g == g.lower() and " " not in g for g in category.seed_genres)
    assert 0 <= category.default_valence <= 1 and 0 <= category.default_energy <= 1
    assert category.window.contains(category.default_valence, category.default_energy)


def test_prompts_are_unique_across_categories():
    prompts = [p for c in CATEGORIES for p in c.prompts]
    assert len(prompts) == len(set(prompts))


def test_categories_cover_all_four_quadrants():
    quadrants = {(c.default_valence >= 0.5, c.default_energy >= 0.5) for c in CATEGORIES}
    assert quadrants == {(True, True), (True, False), (False, True), (False, False)}


def test_rainy_day_defaults_match_the_seed_design():
    rainy = get_category("rainy_day")
    assert (rainy.default_valence, rainy.default_energy) == (0.25, 0.30)
    assert rainy.name("ko") == "비 오는 날"


def test_unknown_category_names_the_known_ones():
    with pytest.raises(KeyError, match="rainy_day"):
        get_category("volcano")


def test_axes_have_one_neutral_label_each_with_direction_zero():
    for axis in TEXT_AXES:
        directions = sorted(label.direction for label in axis.labels)
        assert directions == [-1, 0, 1]
        assert [lb.name for lb in axis.labels if lb.direction == 0] == ["neutral"]


def test_hypotheses_follow_the_caption_language():
    assert caption_language("비가 오지만 신나!") == "ko"
    assert caption_language("rainy but happy") == "en"
    valence = TEXT_AXES[0]
    assert hypotheses_for("신나!", valence)[0] == "이 텍스트는 긍정적인 내용이다."
    assert hypotheses_for("great day", valence)[0] == "This text is positive."
