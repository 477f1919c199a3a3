"""An album is a story: the arc's geometry (pure ``core``), and the real flow with the tiny
models on a database of each test's own: photos in order, shares along the arc, skipped
photos, steering after a restart, the picture's arc, the card within both platforms' limits.
"""

from __future__ import annotations

import asyncio
import dataclasses
import itertools
import re

import pytest

from adapters.chat.discord_render import render_card
from adapters.chat.telegram_render import CAPTION_LIMIT, card_caption, visible_length
from adapters.render.mood_plane import render_mood_plane
from adapters.storage.database import open_database
from adapters.storage.gateway import Storage
from bot.album_reading import read_album
from bot.card_text import card_json
from bot.config import load_settings
from bot.service import MoodService
from core.albums import Album, AlbumPhoto, SkippedPhoto, album_legs, pick_album, shares
from core.categories import CATEGORIES, get_category
from core.controls import Control, ControlKind, card_controls
from core.errors import (
    BadCaptionError,
    BadImageError,
    ConfigError,
    NotForAlbumsError,
    NotRequesterError,
    RateLimitedError,
    SceneNotOfferedError,
)
from core.flow import Actor, AlbumRequest, CardMessage, PhotoRequest
from core.language import Language
from core.messages import ImageProblem
from core.mood import (
    Analysis,
    AxisReading,
    BaseSource,
    CaptionLabel,
    Destination,
    ImageReading,
    MoodPoint,
    Reading,
    TextReading,
)
from core.reply import PlaylistCard, album_taste_line, skip_reason, summary_lines, title
from core.steering import Action
from core.tracks import Track
from core.tuning import place
from tests.conftest import make_photo, recorded_request
from tests.test_controls_paths import _GridSource

COLOURS = [(200, 40, 40), (40, 200, 40), (40, 40, 200), (220, 200, 40), (120, 40, 160)]
_message_ids = itertools.count(1)


def photos(count: int = 3) -> tuple[bytes, ...]:
    return tuple(make_photo(colour) for colour in itertools.islice(itertools.cycle(COLOURS), count))


def album(
    images: tuple[bytes, ...] | None = None, caption: str = "a trip", **extra
) -> AlbumRequest:
    fields = dict(platform="telegram", chat_id="c1", user_id="alice", caption=caption,
                  images=photos() if images is None else images)  # fmt: skip
    fields.update(extra)
    return AlbumRequest(**fields)


def point(valence: float, energy: float) -> MoodPoint:
    return MoodPoint(valence, energy)


def near(a: MoodPoint, b: MoodPoint) -> bool:
    return abs(a.valence - b.valence) < 1e-9 and abs(a.energy - b.energy) < 1e-9


@pytest.fixture
def service(tiny_analyzer, own_settings):
    storage = Storage(open_database(own_settings.db_path))
    yield MoodService(tiny_analyzer, storage, own_settings)
    storage.close()


async def post(service: MoodService, request) -> tuple[PlaylistCard, CardMessage]:
    message_id = f"m{next(_message_ids)}"

    async def send(card: PlaylistCard) -> str:
        return message_id

    card = await service.recommend(request, send)
    return card, CardMessage(request.platform, request.chat_id, message_id)


# ---- the arc's geometry (pure core) --------------------------------------------------------


def test_shares_split_the_count_with_the_remainder_to_the_first_photos() -> None:
    assert shares(10, 3) == [4, 3, 3]
    assert shares(10, 4) == [3, 3, 2, 2]
    assert shares(10, 10) == [1] * 10
    assert shares(10, 1) == [10]
    assert sum(shares(7, 5)) == 7 and shares(0, 2) == [0, 0] and shares(10, 0) == []


def test_each_share_moves_from_the_previous_photo_to_its_own() -> None:
    a, b, c = point(0.1, 0.1), point(0.7, 0.4), point(0.4, 0.9)
    legs = album_legs([a, b, c], 10)
    assert [len(leg) for leg in legs] == [4, 3, 3]
    assert all(near(p, a) for p in legs[0]), "the first photo's share sits on its point"
    assert near(legs[1][-1], b) and near(legs[2][-1], c), "each share arrives on its photo"
    assert near(legs[1][0], point(0.3, 0.2)), "and starts a step away from the previous one"
    assert legs[2][0].valence == pytest.approx(0.6) and legs[2][0].energy == pytest.approx(1.7 / 3)


def _grid_photo(position: int, at: MoodPoint) -> AlbumPhoto:
    analysis = _analysis("sunset", at)
    return AlbumPhoto(position, analysis, at)


def _analysis(
    category_id: str,
    at: MoodPoint,
    source: BaseSource = BaseSource.ANCHORS,
    text: TextReading | None = None,
) -> Analysis:
    image = ImageReading(category_id, 0.7, {category_id: 0.7})
    reading = Reading(image, text or TextReading.neutral())
    genres = next(c.seed_genres for c in CATEGORIES if c.id == category_id)
    return Analysis(reading, at, at, genres, source)


async def test_pick_album_follows_the_arc_without_repeats_or_artist_twice() -> None:
    photos_ = [_grid_photo(1, point(0.1, 0.1)), _grid_photo(2, point(0.9, 0.9))]
    tracks = await pick_album(_GridSource(), photos_, 10, exclude={"t2_2"})
    assert len(tracks) == 10 and len({t.id for t in tracks}) == 10
    assert "t2_2" not in {t.id for t in tracks}
    assert len({t.artists for t in tracks}) == 10, "no artist twice, across the photos too"
    second_share = tracks[5:]
    assert [t.valence for t in second_share] == sorted(t.valence for t in second_share)
    assert second_share[-1].valence == pytest.approx(0.9, abs=0.06)
    assert all(t.valence <= 0.25 for t in tracks[:5]), "the first share stays near photo 1"


def test_steering_an_album_moves_every_photo_clamped() -> None:
    story = Album((_grid_photo(1, point(0.2, 0.95)), _grid_photo(2, point(0.5, 0.3))))
    louder = story.steered(Action.MORE_ENERGY, 0.15)
    assert louder.photos[0].target == point(0.2, 1.0)
    assert louder.photos[1].target == point(0.5, pytest.approx(0.45))
    assert story.steered(Action.REGENERATE, 0.15) == story


async def test_an_albums_photos_are_read_at_once_with_the_caption_read_once() -> None:
    """Sent together, so the model worker can batch them: every call waits here until all
    three are in flight (one at a time would never finish)."""
    calls: list[tuple[bytes, str]] = []
    all_in = asyncio.Event()

    async def analyze(image: bytes, caption: str) -> Reading:
        calls.append((image, caption))
        if len(calls) == 3:
            all_in.set()
        await all_in.wait()
        mood = TextReading(AxisReading(CaptionLabel.POSITIVE, 1, 0.8), AxisReading.neutral())
        return Reading(ImageReading("sunset", 0.5, {}), mood if caption else TextReading.neutral())

    async def place_it(reading: Reading) -> Analysis:
        return place(reading, point(0.5, 0.5), BaseSource.ANCHORS)

    story = await asyncio.wait_for(read_album((b"1", b"2", b"3"), "happy", analyze, place_it), 10)
    assert sorted(calls) == [(b"1", "happy"), (b"2", ""), (b"3", "")], "the caption read once"
    assert all(p.analysis.final == point(0.9, 0.5) for p in story.photos), "and given to all"


# ---- the real flow -----------------------------------------------------------------------


async def test_an_album_gives_one_card_following_its_photos_in_order(service) -> None:
    images = photos(3)
    card = await service.recommend(album(images, caption="비가 오지만 신나!"))
    assert card.album is not None and card.is_arc
    assert [p.position for p in card.album.photos] == [1, 2, 3]
    for photo, image in zip(card.album.photos, images, strict=True):
        alone = await service.read(image, "비가 오지만 신나!")  # the same photo, by itself
        assert photo.analysis.reading.image == alone.reading.image, "photo order kept"
        assert photo.analysis == alone, "placed as a single photo: its base, the one caption"
        assert photo.target == alone.final
    assert card.analysis == card.album.photos[0].analysis
    assert len(card.tracks) == 10 and len({t.id for t in card.tracks}) == 10
    assert len({t.artists for t in card.tracks}) == 10
    shares_ = (card.tracks[:4], card.tracks[4:7], card.tracks[7:])
    for photo, share in zip(card.album.photos, shares_, strict=True):
        genres = set(photo.analysis.seed_genres)
        assert all(genres & set(t.genres) for t in share), "each share in its photo's genres"
    assert title(card) == "AI DJ · 사진 3장"


async def test_the_picture_draws_the_arc_through_the_photos(service) -> None:
    card = await service.recommend(album())
    assert card.album is not None
    anchors = await service._storage.anchor_points()
    scene = card.analysis.reading.image.category_id
    inputs = (anchors, card.analysis.base, card.target, card.tracks, card.language, scene)
    arc = [photo.target for photo in card.album.photos]
    assert card.plane_png == render_mood_plane(*inputs, path=arc)
    assert card.plane_png != render_mood_plane(*inputs), "the arc and the song numbers drawn"


async def test_steering_an_album_after_a_restart(service, tiny_analyzer, own_settings) -> None:
    card, message = await post(service, album())
    requester = Actor("telegram", "c1", "alice")
    edits: list[PlaylistCard] = []

    async def edit(new: PlaylistCard) -> None:
        edits.append(new)

    storage = Storage.open(own_settings.db_path)  # a new process would start like this
    restarted = MoodService(tiny_analyzer, storage, own_settings)
    louder = await restarted.steer(message, Action.MORE_ENERGY, requester, edit)
    storage.close()
    assert louder.album is not None and card.album is not None
    step = own_settings.nudge_step
    for before, after in zip(card.album.photos, louder.album.photos, strict=True):
        assert after.target.energy == pytest.approx(min(1.0, before.target.energy + step))
        assert after.analysis == before.analysis
    assert not {t.id for t in louder.tracks} & {t.id for t in card.tracks}

    storage = Storage.open(own_settings.db_path)
    again = MoodService(tiny_analyzer, storage, own_settings)
    fresh = await again.steer(message, Action.REGENERATE, requester, edit)
    storage.close()
    assert fresh.album == louder.album, "regenerate keeps the (steered) arc"
    assert not {t.id for t in fresh.tracks} & {t.id for t in card.tracks + louder.tracks}
    assert edits == [louder, fresh]
    stored = recorded_request(own_settings, card.request_id)
    assert stored.album == louder.album and stored.rounds == 3


async def test_someone_else_may_not_steer_an_album(service) -> None:
    _, message = await post(service, album())

    async def edit(new: PlaylistCard) -> None:
        raise AssertionError("nothing may be edited")

    with pytest.raises(NotRequesterError):
        await service.steer(message, Action.CALMER, Actor("telegram", "c1", "mallory"), edit)
    with pytest.raises(NotRequesterError):  # an admin of another chat
        await service.steer(message, Action.CALMER, Actor("telegram", "c2", "x", True), edit)


async def test_an_unusable_photo_is_skipped_and_named(service, own_settings) -> None:
    images = photos(3)

    async def too_large() -> bytes:
        raise BadImageError(ImageProblem.TOO_LARGE, limit="1 MB")

    request = album((images[0], b"not an image at all", images[2], too_large))
    card = await service.recommend(request)
    assert card.album is not None
    assert [p.position for p in card.album.photos] == [1, 3]
    assert card.album.skipped == (
        SkippedPhoto(2, ImageProblem.NOT_AN_IMAGE),
        SkippedPhoto(4, ImageProblem.TOO_LARGE),
    )
    lines = summary_lines(dataclasses.replace(card, language=Language.EN))
    assert "Skipped: photo 2 (not an image), photo 4 (too large)" in lines
    korean = summary_lines(dataclasses.replace(card, language=Language.KO))
    assert "건너뛴 사진: 2번 (이미지가 아님), 4번 (너무 큼)" in korean
    assert recorded_request(own_settings, card.request_id).album == card.album
    assert card_json(card)["skipped"] == [
        {"position": 2, "problem": "not_an_image"},
        {"position": 4, "problem": "too_large"},
    ]


async def test_the_caption_counts_when_the_first_photo_is_unusable(service) -> None:
    images = photos(3)
    card = await service.recommend(album((b"junk", images[1], images[2]), caption="so happy"))
    assert card.album is not None and [p.position for p in card.album.photos] == [2, 3]
    expected = await service.read(images[1], "so happy")
    assert card.album.photos[0].analysis == expected
    assert card.album.photos[1].analysis.reading.text == expected.reading.text


async def test_an_album_with_nothing_usable_is_refused_and_kept_nowhere(service, own_settings):
    with pytest.raises(BadImageError) as refused:
        await service.recommend(album((b"", b"junk")))
    assert refused.value.problem is ImageProblem.EMPTY, "the first photo's problem"
    with pytest.raises(BadCaptionError):
        await service.recommend(album(caption="x" * 600))
    db = open_database(own_settings.db_path)
    try:
        assert db.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM album_photos").fetchone()[0] == 0
    finally:
        db.close()


async def test_an_album_whose_card_was_not_delivered_is_kept_nowhere(service, own_settings):
    async def broken_send(card: PlaylistCard) -> str:
        raise ConnectionResetError("the chat API went away")

    with pytest.raises(ConnectionResetError):
        await service.recommend(album(), broken_send)
    db = open_database(own_settings.db_path)
    try:
        assert db.execute("SELECT count(*) FROM requests").fetchone()[0] == 0
        assert db.execute("SELECT count(*) FROM album_photos").fetchone()[0] == 0
    finally:
        db.close()


async def test_an_album_of_one_photo_is_a_normal_card(service) -> None:
    [image] = photos(1)
    card = await service.recommend(album((image,)))
    single = await service.recommend(PhotoRequest("telegram", "c1", "bob", image, "a trip"))
    assert card.album is None
    assert card.analysis == single.analysis and card.tracks == single.tracks


async def test_one_usable_photo_left_is_a_normal_card_that_names_the_rest(service) -> None:
    [image] = photos(1)
    card = await service.recommend(album((b"junk", image), caption="calm"))
    assert card.album is not None and not card.is_arc
    assert len(card.tracks) == 10
    assert title(card) == f"AI DJ · {card.category_name}"
    assert "Skipped: photo 1 (not an image)" in summary_lines(card)


async def test_an_album_follows_at_most_ten_photos(service) -> None:
    card = await service.recommend(album(photos(12)))
    assert card.album is not None
    assert [p.position for p in card.album.photos] == list(range(1, 11))
    assert len(card.tracks) == 10  # one song per photo, each in its photo's genres
    for photo, track in zip(card.album.photos, card.tracks, strict=True):
        assert set(photo.analysis.seed_genres) & set(track.genres)


async def test_an_album_offers_no_scene_nor_journey_and_refuses_both(
    tiny_analyzer, own_settings
) -> None:
    """Every photo would be a close call with a margin of 1; an album card has one set of
    controls for many photos, so it offers no scene to choose."""
    settings = dataclasses.replace(own_settings, scene_choice_margin=1.0)
    storage = Storage(open_database(settings.db_path))
    try:
        service = MoodService(tiny_analyzer, storage, settings)
        single, _ = await post(service, PhotoRequest("telegram", "c1", "alice", photos(1)[0], ""))
        assert single.scene_choices, "a single photo is asked about"
        card, message = await post(service, album())
        assert card.scene_choices == ()
        assert not [row for row in card_controls(card) if row[0].control.kind is ControlKind.SCENE]
        scene = get_category(card.analysis.reading.image.category_id).id
        pick = Control(card.request_id, ControlKind.SCENE, scene)

        async def edit(new: PlaylistCard) -> None:
            raise AssertionError("nothing may be edited")

        with pytest.raises(SceneNotOfferedError):
            await service.press(message, pick, Actor("telegram", "c1", "alice"), edit)
        kinds = {button.control.kind for row in card_controls(card) for button in row}
        assert ControlKind.JOURNEY not in kinds, "its path is its photos': no journey row"
        assert ControlKind.JOURNEY in {b.control.kind for row in card_controls(single) for b in row}
        journey = Control.journey(card.request_id, Destination.LIFT)
        with pytest.raises(NotForAlbumsError):
            await service.press(message, journey, Actor("telegram", "c1", "alice"), edit)
        assert recorded_request(settings, card.request_id).rounds == 1, "nothing changed"
    finally:
        storage.close()


async def test_an_albums_photos_carry_the_chats_taste_and_the_requesters_skips(
    service, own_settings, tiny_analyzer
) -> None:
    single = await service.recommend(PhotoRequest("telegram", "c1", "alice", make_photo(), ""))
    for _ in range(5):  # the chat's taste for that photo's scene: calmer
        await service.steer_as_owner(single.request_id, Action.CALMER)
    skipped_artist = single.tracks[0].artists[0]
    await service._storage.update_user_prefs(
        "telegram", "alice", lambda prefs: prefs.with_skip(skipped_artist)
    )
    images = (photos(1)[0], make_photo())  # the second photo is the tuned scene
    card = await service.recommend(album(images, caption=""))
    assert card.album is not None and card.is_arc
    tuned = card.album.photos[1].analysis
    assert tuned.taste.energy < 0 and tuned.final.energy < single.analysis.final.energy
    assert skipped_artist not in {a for t in card.tracks for a in t.artists}
    line = album_taste_line(card.album, Language.EN)
    assert line is not None and line in summary_lines(card)
    assert recorded_request(own_settings, card.request_id).album == card.album, (
        "the taste kept with each photo"
    )


async def test_presses_on_an_album_count_toward_each_of_its_photos_scenes(service) -> None:
    """An album's nudge moves every photo, so the chat's taste learns it for each scene in
    the album, the later photos' too (the request itself records only the first's)."""
    first, second = photos(1)[0], make_photo()
    card, _ = await post(service, album((first, second), caption=""))
    assert card.album is not None
    scenes = [photo.analysis.reading.image.category_id for photo in card.album.photos]
    assert scenes[0] != scenes[1], "the test needs two scenes"
    for _ in range(5):
        await service.steer_as_owner(card.request_id, Action.CALMER)
    for image in (first, second):
        alone, _ = await post(service, PhotoRequest("telegram", "c1", "bob", image, ""))
        assert alone.analysis.taste.energy < 0, alone.analysis.reading.image.category_id
    elsewhere, _ = await post(service, PhotoRequest("telegram", "c2", "bob", second, ""))
    assert elsewhere.analysis.taste.energy == 0  # the chat's taste, not everyone's


def test_the_taste_line_of_an_album_names_the_photos_it_moved() -> None:
    plain = _analysis("sunset", point(0.5, 0.5))
    calmer = dataclasses.replace(plain, taste=point(0.0, -0.1))
    happier = dataclasses.replace(plain, taste=point(0.05, 0.0))
    at = point(0.5, 0.5)

    def story(*analyses: Analysis) -> Album:
        return Album(tuple(AlbumPhoto(n, a, at) for n, a in enumerate(analyses, start=1)))

    assert album_taste_line(story(plain, plain), Language.EN) is None
    assert album_taste_line(story(calmer, calmer), Language.EN) == (
        "Tuned to this chat: energy -0.10"
    )
    assert album_taste_line(story(calmer, plain, happier, calmer), Language.EN) == (
        "Tuned to this chat: energy -0.10 (1, 4); valence +0.05 (3)"
    )
    assert (
        album_taste_line(story(plain, calmer), Language.KO) == "이 채팅 취향 반영: 에너지 -0.10 (2)"
    )


async def test_an_album_counts_once_against_the_rate_limit(tiny_analyzer, own_settings) -> None:
    settings = dataclasses.replace(own_settings, rate_limit_per_minute=1)
    storage = Storage(open_database(settings.db_path))
    try:
        service = MoodService(tiny_analyzer, storage, settings)
        card = await service.recommend(album(photos(5)))
        assert card.album is not None and len(card.album.photos) == 5
        with pytest.raises(RateLimitedError):
            await service.recommend(album())
    finally:
        storage.close()


# ---- the card within the platforms' limits -------------------------------------------------


def _ten_photo_card(language: Language) -> PlaylistCard:
    """An album of ten photos of the longest-named scenes, steered, one base from defaults,
    with long track names: the most a card can hold."""
    longest = sorted(CATEGORIES, key=lambda c: -len(c.name(language)))
    moved = TextReading(  # the longest caption line: both axes moved
        valence=AxisReading(CaptionLabel.NEGATIVE, -1, 0.86),
        energy=AxisReading(CaptionLabel.ENERGETIC, 1, 0.91),
    )
    photos_ = []
    for position, category in zip(range(1, 11), itertools.cycle(longest[:3]), strict=False):
        at = point(0.1 * position - 0.05, 1 - 0.08 * position)
        source = BaseSource.DEFAULTS if position == 7 else BaseSource.ANCHORS
        analysis = _analysis(category.id, at, source, moved)
        photos_.append(AlbumPhoto(position, analysis, point(at.valence, min(1, at.energy + 0.15))))
    tracks = tuple(
        Track(f"id{n}", "가" * 200 + " <&>", ("아티스트" * 30,), 0.5, 0.5) for n in range(10)
    )
    story = Album(tuple(photos_))
    first = photos_[0]
    return PlaylistCard(
        request_id=10**12,
        language=language,
        analysis=first.analysis,
        target=first.target,
        tracks=tracks,
        delta_max=0.5,
        playlist_url="https://open.spotify.com/playlist/x?a=1&b=2",
        round=3,
        last_action=Action.MORE_ENERGY,
        album=story,
    )


@pytest.mark.parametrize("language", [Language.KO, Language.EN])
def test_ten_photos_fit_telegrams_caption_with_all_of_it_shown(language) -> None:
    card = _ten_photo_card(language)
    caption = card_caption(card)
    assert visible_length(caption) <= CAPTION_LIMIT
    plain = re.sub(r"<[^>]+>", "", caption)
    for line in summary_lines(card):
        assert line in plain.replace("&amp;", "&"), line
    assert len(re.findall(r'href="https://open\.spotify\.com/track/id\d"', caption)) == 10
    assert summary_lines(card)[0].count("→") == 9, "all ten photos' scenes, in order"


@pytest.mark.parametrize("language", [Language.KO, Language.EN])
def test_ten_photos_fit_discords_embed_with_all_of_it_shown(language) -> None:
    card = _ten_photo_card(language)
    embed = render_card(card).embed
    assert embed.title is not None and len(embed.title) <= 256
    assert embed.description is not None and len(embed.description) <= 4096
    assert len(embed) <= 6000
    for line in summary_lines(card):
        assert line in embed.description
    assert embed.description.count("](https://open.spotify.com/track/id") == 10


def test_every_image_problem_has_a_short_skip_reason_in_both_languages() -> None:
    for problem in ImageProblem:
        korean, english = skip_reason(problem, Language.KO), skip_reason(problem, Language.EN)
        assert re.search(r"[\uac00-\ud7a3]", korean) and english.isascii()
        assert len(korean) <= 12 and len(english) <= 16, "a word or two on a card line"


# ---- the setting ---------------------------------------------------------------------------


def test_the_telegram_album_wait_is_a_setting_within_bounds() -> None:
    assert load_settings({}, dotenv=False).telegram_options().album_wait_s == 1.5
    waited = load_settings({"AIDJ_TELEGRAM_ALBUM_WAIT_S": "0.8"}, dotenv=False)
    assert waited.telegram_options().album_wait_s == 0.8
    for bad in ("0", "-1", "31"):
        with pytest.raises(ConfigError, match="AIDJ_TELEGRAM_ALBUM_WAIT_S must be within"):
            load_settings({"AIDJ_TELEGRAM_ALBUM_WAIT_S": bad}, dotenv=False)
    with pytest.raises(ConfigError, match="AIDJ_TELEGRAM_ALBUM_WAIT_S must be a float"):
        load_settings({"AIDJ_TELEGRAM_ALBUM_WAIT_S": "soon"}, dotenv=False)
