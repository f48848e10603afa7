"""Version stamps: every notebook names the versions it ran with, and the README the date."""

import datetime

import nbformat
import pytest

from tools.course import LANGUAGES, ROOT, lesson_sources, notebook_path
from tools.stamp import (
    STAMP_TAG,
    add_stamp,
    read_stamp,
    readme_dates,
    update_readme,
)

SOURCES = lesson_sources()


def _pinned(name: str) -> str:
    for line in (ROOT / "requirements.txt").read_text().splitlines():
        requirement = line.split("#")[0].split(";")[0].strip()
        if requirement.split("[")[0].split("==")[0] == name:
            return requirement.split("==")[1]
    raise AssertionError(f"{name} is not pinned in requirements.txt")


@pytest.mark.parametrize("source", SOURCES, ids=[s.stem for s in SOURCES])
@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_notebook_ends_with_a_stamp_of_the_pinned_dask(source, lang):
    notebook = nbformat.read(notebook_path(source, lang), as_version=4)
    stamps = [c for c in notebook.cells if STAMP_TAG in c.metadata.get("tags", [])]
    redo = f"run `make notebooks LESSONS={source.stem[:2]}`"
    assert len(stamps) == 1 and notebook.cells[-1] is stamps[0], f"no version stamp: {redo}"
    _, versions = read_stamp(notebook)
    # A notebook executed before a dask upgrade still shows the old dask's outputs.
    assert versions["dask"] == _pinned("dask"), f"executed with dask {versions['dask']}: {redo}"
    assert versions["distributed"] == _pinned("distributed")
    assert {"Python", "numpy", "pandas", "scikit-learn"} <= versions.keys()


def test_readme_shows_when_each_lesson_was_verified_in_both_languages():
    dates = readme_dates((ROOT / "README.md").read_text(encoding="utf-8"))
    assert sorted(dates) == [s.stem[:2] for s in SOURCES]
    for source in SOURCES:
        stamped = [read_stamp(nbformat.read(notebook_path(source, lang), as_version=4))[0]
                   for lang in LANGUAGES]
        assert dates[source.stem[:2]] == min(stamped), (
            f"README says lesson {source.stem[:2]} was verified on {dates[source.stem[:2]]}, its "
            f"notebooks on {stamped}: run `make notebooks` (it updates the README)")


def test_stamp_names_the_lessons_own_packages_in_its_language():
    # Not installed in the light environment of `make test-other-python`.
    pytest.importorskip("xgboost")
    pytest.importorskip("torch")
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell("import xgboost\nfrom torch import nn")]
    add_stamp(notebook, "es", today=datetime.date(2026, 11, 30))
    add_stamp(notebook, "es", today=datetime.date(2026, 12, 1))  # replaces, never piles up
    assert sum(STAMP_TAG in c.metadata.get("tags", []) for c in notebook.cells) == 1
    assert notebook.cells[-1].source.startswith("*Lección ejecutada y verificada el 2026-12-01")
    date, versions = read_stamp(notebook)
    assert date == "2026-12-01"
    assert list(versions)[:2] == ["Python", "dask"] and {"xgboost", "torch"} <= versions.keys()
    assert "keras" not in versions


def test_readme_update_touches_only_the_named_lessons():
    readme = "| 00 | a | b | 20 min | – |\n| 01 | c | d | 35 min | 2026-11-01 |\n"
    updated = update_readme(readme, {"00": "2026-11-30"})
    assert readme_dates(updated) == {"00": "2026-11-30", "01": "2026-11-01"}
