"""The twelve mood categories that CLIP chooses between.

Why these twelve: they are the scenes people actually post when they want music for a
moment, and together they spread over all four quadrants of Russell's valence/energy plane,
so the image alone already puts the playlist in the right region before the caption nudges
it. Calm scenes (rain, snow, study, forest, cafe) are over-represented on purpose: they are
where music choice matters most and where a genre label alone says least.

Each category carries
- several CLIP prompts (prompt ensembling: their text embeddings are averaged, which is
  steadier than any single phrasing),
- seed genres in the catalog's normalised slug form (see ``core.genres``), covering both
  public catalog formats (TidyTuesday subgenres and the 114-genre tracks dataset),
- a feature window (valence/energy ranges) that the anchor builder uses to pick tracks
  that sound like the scene, because calm genres are thin in some catalogs,
- default base valence/energy, used only until an anchor table has been built.
- an emoji, which marks the scene on a button when the card asks which of two scenes the
  photo shows (``core.scene_choice``).
"""

from __future__ import annotations

from dataclasses import dataclass

from core.language import Language


@dataclass(frozen=True)
class FeatureWindow:
    """Inclusive valence/energy ranges a representative track of a category falls in."""

    valence: tuple[float, float] = (0.0, 1.0)
    energy: tuple[float, float] = (0.0, 1.0)

    def contains(self, valence: float, energy: float) -> bool:
        return (
            self.valence[0] <= valence <= self.valence[1]
            and self.energy[0] <= energy <= self.energy[1]
        )


@dataclass(frozen=True)
class MoodCategory:
    id: str
    name_en: str
    name_ko: str
    prompts: tuple[str, ...]
    seed_genres: tuple[str, ...]
    default_valence: float
    default_energy: float
    window: FeatureWindow = FeatureWindow()
    emoji: str = "🎵"  # marks the scene on a button ("🏖️ Sunny beach")

    def name(self, language: Language) -> str:
        """The category's display name in ``language``."""
        return self.name_ko if language == Language.KO else self.name_en

    def label(self, language: Language) -> str:
        """The scene on a button: its emoji and name ("🌅 Sunset" / "🌅 노을")."""
        return f"{self.emoji} {self.name(language)}"


CATEGORIES: tuple[MoodCategory, ...] = (
    MoodCategory(
        id="rainy_day",
        name_en="Rainy day",
        name_ko="비 오는 날",
        emoji="☔",
        prompts=(
            "a photo of a sentimental, melancholic rainy day",
            "a photo of rain on a window",
            "a photo of a wet street with umbrellas in the rain",
            "a photo of a grey, cloudy and rainy sky",
        ),
        seed_genres=(
            "acoustic",
            "sad",
            "piano",
            "indie",
            "singer-songwriter",
            "chill",
            "neo-soul",
            "indie-poptimism",
            "permanent-wave",
            "r-n-b",
            "alternative",
        ),
        default_valence=0.25,
        default_energy=0.30,
        window=FeatureWindow(valence=(0.0, 0.45), energy=(0.0, 0.55)),
    ),
    MoodCategory(
        id="sunny_beach",
        name_en="Sunny beach",
        name_ko="햇살 가득한 해변",
        emoji="🏖️",
        prompts=(
            "a photo of a sunny beach with blue sea",
            "a photo of people swimming at the seaside in summer",
            "a photo of palm trees and a tropical beach",
            "a photo of waves and sand on a bright summer day",
        ),
        seed_genres=(
            "tropical",
            "reggaeton",
            "latin-pop",
            "latin",
            "dance-pop",
            "reggae",
            "brazil",
            "samba",
            "dancehall",
            "pop",
            "latin-hip-hop",
        ),
        default_valence=0.80,
        default_energy=0.75,
        window=FeatureWindow(valence=(0.6, 1.0), energy=(0.55, 1.0)),
    ),
    MoodCategory(
        id="night_city",
        name_en="Night city lights",
        name_ko="도시의 밤",
        emoji="🌃",
        prompts=(
            "a photo of city lights at night",
            "a photo of a neon-lit street at night",
            "a photo of a skyline with skyscrapers at night",
            "a photo of cars and traffic in a city at night",
        ),
        seed_genres=(
            "electropop",
            "synth-pop",
            "urban-contemporary",
            "r-n-b",
            "hip-hop",
            "trap",
            "deep-house",
            "electronic",
            "trip-hop",
            "electro",
        ),
        default_valence=0.40,
        default_energy=0.65,
        window=FeatureWindow(valence=(0.15, 0.6), energy=(0.5, 0.85)),
    ),
    MoodCategory(
        id="cozy_cafe",
        name_en="Cozy cafe",
        name_ko="아늑한 카페",
        emoji="☕",
        prompts=(
            "a photo of a cozy cafe with coffee",
            "a photo of a cup of latte on a wooden table",
            "a photo of the warm interior of a coffee shop",
            "a photo of a book and coffee by the window",
        ),
        seed_genres=(
            "jazz",
            "acoustic",
            "neo-soul",
            "indie-pop",
            "singer-songwriter",
            "chill",
            "mpb",
            "soul",
            "indie-poptimism",
            "folk",
        ),
        default_valence=0.55,
        default_energy=0.35,
        window=FeatureWindow(valence=(0.35, 0.75), energy=(0.1, 0.55)),
    ),
    MoodCategory(
        id="forest_nature",
        name_en="Forest and nature",
        name_ko="숲과 자연",
        emoji="🌲",
        prompts=(
            "a photo of a green forest",
            "a photo of mountains, trees and a lake",
            "a photo of a quiet hiking trail in nature",
            "a photo of flowers in a field",
        ),
        seed_genres=(
            "folk",
            "acoustic",
            "ambient",
            "new-age",
            "indie",
            "singer-songwriter",
            "classical",
            "guitar",
            "permanent-wave",
            "indie-poptimism",
        ),
        default_valence=0.50,
        default_energy=0.30,
        window=FeatureWindow(valence=(0.3, 0.7), energy=(0.0, 0.5)),
    ),
    MoodCategory(
        id="snowy_winter",
        name_en="Snowy winter",
        name_ko="눈 내리는 겨울",
        emoji="❄️",
        prompts=(
            "a photo of falling snow in winter",
            "a photo of a snowy landscape",
            "a photo of a snow-covered street and trees",
            "a photo of a cold winter day with snow",
        ),
        seed_genres=(
            "piano",
            "classical",
            "ambient",
            "acoustic",
            "sleep",
            "singer-songwriter",
            "indie",
            "sad",
            "chill",
            "neo-soul",
        ),
        default_valence=0.40,
        default_energy=0.30,
        window=FeatureWindow(valence=(0.15, 0.6), energy=(0.0, 0.5)),
    ),
    MoodCategory(
        id="sunset",
        name_en="Sunset",
        name_ko="노을",
        emoji="🌅",
        prompts=(
            "a photo of a sunset",
            "a photo of an orange and pink sky at dusk",
            "a photo of the golden hour over the sea",
            "a photo of the sun going down behind the horizon",
        ),
        seed_genres=(
            "indie-pop",
            "chill",
            "r-n-b",
            "neo-soul",
            "indie-poptimism",
            "soul",
            "alternative",
            "tropical",
            "permanent-wave",
            "synth-pop",
        ),
        default_valence=0.50,
        default_energy=0.45,
        window=FeatureWindow(valence=(0.3, 0.7), energy=(0.3, 0.65)),
    ),
    MoodCategory(
        id="party_concert",
        name_en="Party and concert",
        name_ko="파티와 공연",
        emoji="🎉",
        prompts=(
            "a photo of a party with dancing people",
            "a photo of a concert crowd and stage lights",
            "a photo of a nightclub with a DJ",
            "a photo of a festival with fireworks",
        ),
        seed_genres=(
            "edm",
            "big-room",
            "electro-house",
            "pop-edm",
            "party",
            "dance",
            "house",
            "club",
            "progressive-electro-house",
            "dance-pop",
        ),
        default_valence=0.70,
        default_energy=0.88,
        window=FeatureWindow(valence=(0.45, 1.0), energy=(0.75, 1.0)),
    ),
    MoodCategory(
        id="workout",
        name_en="Workout",
        name_ko="운동",
        emoji="💪",
        prompts=(
            "a photo of a gym with weights",
            "a photo of a person running",
            "a photo of people exercising hard",
            "a photo of a sports training session",
        ),
        seed_genres=(
            "hip-hop",
            "trap",
            "gangster-rap",
            "hard-rock",
            "southern-hip-hop",
            "edm",
            "electro-house",
            "drum-and-bass",
            "hardstyle",
            "metal",
        ),
        default_valence=0.55,
        default_energy=0.85,
        window=FeatureWindow(valence=(0.3, 0.85), energy=(0.75, 1.0)),
    ),
    MoodCategory(
        id="road_trip",
        name_en="Road trip",
        name_ko="드라이브와 여행",
        emoji="🚗",
        prompts=(
            "a photo of a road trip through open country",
            "a photo of a car driving on a highway",
            "a photo of a scenic road from a car window",
            "a photo of travellers with a map and backpacks",
        ),
        seed_genres=(
            "classic-rock",
            "album-rock",
            "rock",
            "country",
            "indie",
            "permanent-wave",
            "power-pop",
            "rock-n-roll",
            "pop",
            "alt-rock",
        ),
        default_valence=0.65,
        default_energy=0.70,
        window=FeatureWindow(valence=(0.5, 0.9), energy=(0.55, 0.9)),
    ),
    MoodCategory(
        id="study_desk",
        name_en="Study desk",
        name_ko="공부와 작업",
        emoji="📚",
        prompts=(
            "a photo of a study desk with books and a laptop",
            "a photo of a quiet library",
            "a photo of notes and a pen on a desk",
            "a photo of someone working late at a computer",
        ),
        seed_genres=(
            "study",
            "piano",
            "classical",
            "ambient",
            "chill",
            "idm",
            "jazz",
            "sleep",
            "new-age",
            "trip-hop",
        ),
        default_valence=0.35,
        default_energy=0.25,
        window=FeatureWindow(valence=(0.1, 0.6), energy=(0.0, 0.45)),
    ),
    MoodCategory(
        id="romantic_dinner",
        name_en="Romantic dinner",
        name_ko="로맨틱한 저녁",
        emoji="🕯️",
        prompts=(
            "a photo of a romantic candlelit dinner",
            "a photo of a couple holding hands",
            "a photo of wine glasses and roses on a table",
            "a photo of a date night at a restaurant",
        ),
        seed_genres=(
            "jazz",
            "soul",
            "r-n-b",
            "neo-soul",
            "romance",
            "latin-pop",
            "new-jack-swing",
            "urban-contemporary",
            "singer-songwriter",
            "bossanova",
        ),
        default_valence=0.60,
        default_energy=0.40,
        window=FeatureWindow(valence=(0.4, 0.8), energy=(0.15, 0.6)),
    ),
)

CATEGORY_BY_ID: dict[str, MoodCategory] = {category.id: category for category in CATEGORIES}


def get_category(category_id: str) -> MoodCategory:
    """The category with ``category_id``; KeyError names the known ids."""
    try:
        return CATEGORY_BY_ID[category_id]
    except KeyError:
        known = ", ".join(CATEGORY_BY_ID)
        raise KeyError(f"unknown mood category {category_id!r}; known: {known}") from None
