"""The two caption axes read by zero-shot NLI, with their labels and hypotheses.

Valence (how positive) and energy (how intense) are the two dimensions of Russell's
circumplex model that the design maps onto Spotify's audio features. Each axis has three
labels; the neutral label has direction 0 so it never moves the image's base values.

A third reading asks whether the caption wants to be taken somewhere (a journey playlist,
``core.journey``): one hypothesis per destination and one for "no change asked", read the
same way (a softmax over their entailment logits) but in passes of their own, so the two
axes' numbers stay exactly what they were without it.

Hypotheses come in Korean and English. The NLI model is multilingual, but a hypothesis in
the caption's own language reads more reliably, so the Korean set is used for captions that
contain Hangul and the English set otherwise (the seed design used the Korean phrasing).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.language import Language, caption_language
from core.mood import CaptionLabel, Destination


@dataclass(frozen=True)
class AxisLabel:
    name: CaptionLabel
    direction: int
    hypothesis_en: str
    hypothesis_ko: str


@dataclass(frozen=True)
class TextAxis:
    name: str
    labels: tuple[AxisLabel, ...]


VALENCE_AXIS = TextAxis(
    name="valence",
    labels=(
        AxisLabel(
            CaptionLabel.POSITIVE, +1, "This text is positive.", "이 텍스트는 긍정적인 내용이다."
        ),
        AxisLabel(
            CaptionLabel.NEUTRAL, 0, "This text is neutral.", "이 텍스트는 중립적인 내용이다."
        ),
        AxisLabel(
            CaptionLabel.NEGATIVE, -1, "This text is negative.", "이 텍스트는 부정적인 내용이다."
        ),
    ),
)

ENERGY_AXIS = TextAxis(
    name="energy",
    labels=(
        AxisLabel(
            CaptionLabel.ENERGETIC, +1, "This text is energetic.", "이 텍스트는 활기찬 내용이다."
        ),
        AxisLabel(
            CaptionLabel.NEUTRAL,
            0,
            "This text is neither energetic nor calm.",
            "이 텍스트는 활기차지도 차분하지도 않은 내용이다.",
        ),
        AxisLabel(CaptionLabel.CALM, -1, "This text is calm.", "이 텍스트는 차분한 내용이다."),
    ),
)

TEXT_AXES: tuple[TextAxis, ...] = (VALENCE_AXIS, ENERGY_AXIS)


def hypotheses_for(caption: str, axis: TextAxis) -> list[str]:
    """The axis' hypotheses in the caption's language, in label order."""
    korean = caption_language(caption) is Language.KO
    return [label.hypothesis_ko if korean else label.hypothesis_en for label in axis.labels]


@dataclass(frozen=True)
class DestinationLabel:
    destination: Destination | None  # None: the caption asks for no change of mood
    hypothesis_en: str
    hypothesis_ko: str


DESTINATION_LABELS: tuple[DestinationLabel, ...] = (
    DestinationLabel(
        Destination.LIFT,
        "The writer wants to be cheered up.",
        "글쓴이는 기분이 나아지고 싶어 한다.",
    ),
    DestinationLabel(
        Destination.WIND_DOWN,
        "The writer wants to calm down and rest.",
        "글쓴이는 마음을 가라앉히고 쉬고 싶어 한다.",
    ),
    DestinationLabel(
        Destination.FOCUS,
        "The writer wants to concentrate.",
        "글쓴이는 집중하고 싶어 한다.",
    ),
    DestinationLabel(
        Destination.HYPE,
        "The writer wants to get pumped up.",
        "글쓴이는 텐션을 끌어올리고 싶어 한다.",
    ),
    DestinationLabel(
        None,
        "The writer does not ask for a change of mood.",
        "글쓴이는 기분의 변화를 원하지 않는다.",
    ),
)


def destination_hypotheses(caption: str) -> list[str]:
    """The destination hypotheses in the caption's language, in ``DESTINATION_LABELS``
    order."""
    korean = caption_language(caption) is Language.KO
    return [label.hypothesis_ko if korean else label.hypothesis_en for label in DESTINATION_LABELS]
