"""``bench.gpu`` runs on a lent GPU machine, where a broken script costs scarce device time:
here it runs on the CPU with the tiny models, for its output, never its timings."""

from __future__ import annotations

import json

from bench.gpu import main
from tests.fixtures_models import tiny_models_dir


def test_the_gpu_bench_runs_on_the_cpu_and_reports_every_part(tiny_models, tmp_path, capsys):
    figures_file = tmp_path / "gpu.json"
    arguments = ["--device", "cpu", "--tiny", str(tiny_models_dir()), "--batches", "1,3"]
    assert main([*arguments, "--runs", "1", "--json", str(figures_file)]) == 0
    printed = capsys.readouterr().out
    # the same models on the same device: the readings agree exactly
    assert "same category 3/3, same axis labels 6/6" in printed
    assert "photos decoded on 1 threads" in printed  # the CPU decodes one photo at a time
    assert "bf16 autocast" in printed and "photos prepared per second" in printed
    figures = json.loads(figures_file.read_text())
    assert set(figures["batches"]) == set(figures["grouping"]) == {"1", "3"}
    assert figures["fidelity"]["max_category_probability"] == 0.0
    assert all(rate > 0 for rate in figures["prep_threads"].values())
