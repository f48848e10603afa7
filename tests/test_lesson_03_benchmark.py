"""Lesson 03's benchmark script times the search the lesson teaches, and runs end to end."""

from __future__ import annotations

import ast
import importlib.util
import json
import re

from tools.course import LESSONS_DIR, ROOT

LESSON = LESSONS_DIR / "03_parallel_search.md"
SCRIPT = ROOT / "benchmarks" / "parallel_search.py"


def load_benchmark():
    spec = importlib.util.spec_from_file_location("parallel_search_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_uses_the_lessons_search():
    source = LESSON.read_text(encoding="utf-8")
    bench = load_benchmark()
    grid = re.search(r"^param_grid = (\{.*\})$", source, re.MULTILINE)
    folds = re.search(r"^n_folds = (\d+)$", source, re.MULTILINE)
    samples = re.search(r"^n_samples = pick\(small=([\d_]+),", source, re.MULTILINE)
    assert grid and folds and samples, "lesson 03 no longer defines its search as expected"
    assert ast.literal_eval(grid.group(1)) == bench.PARAM_GRID
    assert int(folds.group(1)) == bench.CV
    assert int(samples.group(1)) == bench.N_SAMPLES


def test_benchmark_runs_and_records(tmp_path, capsys):
    bench = load_benchmark()
    assert bench.main(["--n-samples", "300", "--repeats", "1", "--output", str(tmp_path)]) == 0
    records = list(tmp_path.glob("parallel_search-*.json"))
    assert len(records) == 1
    record = json.loads(records[0].read_text())
    assert record["fits"] == 16 * 3
    assert record["speedup_best"] > 0
    assert set(record["best_params"]) == {"C", "gamma"}
    assert "speed-up" in capsys.readouterr().out
