"""Reading an album: its photos fetched and analysed together, each placed on the plane.

Why together: the model worker micro-batches requests that arrive within a few milliseconds,
so photos sent at once share one CLIP pass. The caption rides with the first photo only (an
empty caption costs the NLI model nothing) and its reading is given to every photo, as the
post has one caption. A photo that cannot be used (too big, not an image, corrupt) is
skipped and named on the card; only when none can be used is the album refused, with the
first photo's problem. Anything else (a download that fails, the worker) fails the album.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

from core.albums import MAX_PHOTOS, Album, AlbumPhoto, SkippedPhoto
from core.errors import BadImageError
from core.flow import ImageFetch
from core.mood import Analysis, Reading, TextReading

T = TypeVar("T")
Analyze = Callable[[bytes, str], Awaitable[Reading]]
Place = Callable[[Reading], Awaitable[Analysis]]


async def read_album(
    images: Sequence[bytes | ImageFetch], caption: str, analyze: Analyze, place: Place
) -> Album:
    """The album of ``images`` (in the post's order; the first ``MAX_PHOTOS`` of them) with
    ``caption``, read by ``analyze`` and placed by ``place``; raises the first photo's
    ``BadImageError`` when none is usable."""
    fetched = await _together([_usable(_fetch(image)) for image in images[:MAX_PHOTOS]])
    problems: dict[int, BadImageError] = {}
    usable: list[tuple[int, bytes]] = []
    for position, data in enumerate(fetched, start=1):
        if isinstance(data, BadImageError):
            problems[position] = data
        else:
            usable.append((position, data))
    readings = await _together(
        [
            _usable(analyze(data, caption if index == 0 else ""))
            for index, (_, data) in enumerate(usable)
        ]
    )
    read: list[tuple[int, bytes, Reading]] = []
    for (position, data), reading in zip(usable, readings, strict=True):
        if isinstance(reading, BadImageError):
            problems[position] = reading
        else:
            read.append((position, data, reading))
    if not read:
        raise problems[min(problems)]
    text = await _caption_reading(readings[0], read[0][1], caption, analyze)
    places = await _together([place(Reading(reading.image, text)) for _, _, reading in read])
    return Album(
        photos=tuple(
            AlbumPhoto(position, analysis, analysis.final)
            for (position, _, _), analysis in zip(read, places, strict=True)
        ),
        skipped=tuple(
            SkippedPhoto(position, error.problem) for position, error in sorted(problems.items())
        ),
    )


async def _caption_reading(
    first: Reading | BadImageError, usable_photo: bytes, caption: str, analyze: Analyze
) -> TextReading:
    """The caption's reading: from the first photo's analysis, which carried it, or (that
    photo being unusable) read again with the first usable one."""
    if isinstance(first, Reading):
        return first.text
    if not caption:
        return TextReading.neutral()
    return (await analyze(usable_photo, caption)).text


async def _fetch(image: bytes | ImageFetch) -> bytes:
    return image if isinstance(image, bytes) else await image()


async def _usable(work: Awaitable[T]) -> T | BadImageError:
    """``work``'s result, or the photo's problem (any other error propagates)."""
    try:
        return await work
    except BadImageError as error:
        return error


async def _together(work: Sequence[Awaitable[T]]) -> list[T]:
    """Run ``work`` at once; the first failure cancels the rest and is raised as itself."""
    tasks = [asyncio.ensure_future(item) for item in work]
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
