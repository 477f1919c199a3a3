"""`aidj catalog import`, `anchors build`, `recommend` and `regenerate` through the CLI, on
the shared real catalog (skipped without it) with the tiny offline models."""

from __future__ import annotations

import json
from pathlib import Path
from statistics import fmean

import pytest

from bot.cli import main
from tests.conftest import SHARED_DATA, make_photo

REAL_CSV = SHARED_DATA / "spotify_songs.csv"


@pytest.fixture(scope="module")
def catalog_db(tmp_path_factory) -> Path:
    if not REAL_CSV.exists():
        pytest.skip(f"needs the shared catalog at {REAL_CSV} (see shared/data/README.md)")
    db = tmp_path_factory.mktemp("cli") / "aidj.db"
    assert main(["catalog", "import", str(REAL_CSV), "--db", str(db)]) == 0
    assert main(["anchors", "build", "--db", str(db)]) == 0
    return db


def run_json(capsys, *args: str) -> dict:
    code = main([*args, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def assert_close(card: dict) -> None:
    tracks = card["tracks"]
    assert len(tracks) == 10
    target = card["target"]
    assert fmean(abs(t["valence"] - target["valence"]) for t in tracks) < 0.05
    assert fmean(abs(t["energy"] - target["energy"]) for t in tracks) < 0.05
    assert all(t["url"] == f"https://open.spotify.com/track/{t['id']}" for t in tracks)


def test_recommend_then_regenerate_on_the_real_catalog(catalog_db, tiny_models, tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo((70, 90, 120)))
    models = ["--clip-model", str(tiny_models.clip), "--nli-model", str(tiny_models.nli)]
    first = run_json(
        capsys, "recommend", str(photo), "비가 오지만 신나!", *models, "--db", str(catalog_db)
    )
    assert first["base_source"] == "anchors"
    assert first["target"] == first["final"]
    assert_close(first)

    again = run_json(capsys, "regenerate", str(first["request_id"]), "--db", str(catalog_db))
    assert_close(again)
    assert not {t["id"] for t in first["tracks"]} & {t["id"] for t in again["tracks"]}

    louder = run_json(
        capsys, "regenerate", str(first["request_id"]), "--action", "more_energy",
        "--db", str(catalog_db),
    )  # fmt: skip
    assert louder["target"]["energy"] == pytest.approx(min(1.0, first["target"]["energy"] + 0.15))


def test_human_output_lists_tracks_with_links(catalog_db, tiny_models, tmp_path, capsys):
    photo = tmp_path / "photo.png"
    photo.write_bytes(make_photo((200, 180, 60), fmt="PNG"))
    plane = tmp_path / "plane.png"
    code = main([
        "recommend", str(photo), "", "--n", "5", "--plane", str(plane), "--db", str(catalog_db),
        "--clip-model", str(tiny_models.clip), "--nli-model", str(tiny_models.nli),
    ])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert out.count("https://open.spotify.com/track/") == 5
    assert "(request #" in out
    assert plane.read_bytes().startswith(b"\x89PNG")


def test_regenerate_unknown_request_is_one_line(catalog_db, capsys):
    assert main(["regenerate", "987654", "--db", str(catalog_db)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("aidj: ") and "987654" in err


def test_recommend_on_an_empty_catalog_says_what_to_do(tiny_models, tmp_path, capsys):
    photo = tmp_path / "photo.jpg"
    photo.write_bytes(make_photo())
    code = main([
        "recommend", str(photo), "hi", "--db", str(tmp_path / "empty.db"),
        "--clip-model", str(tiny_models.clip), "--nli-model", str(tiny_models.nli),
    ])  # fmt: skip
    assert code == 1
    assert "aidj catalog import" in capsys.readouterr().err
