"""tools.course: the layout, lesson selection, the notebook executor and the committed-output
environment that every command (build, bench, prepare, test-cluster, test-latest) shares."""

from __future__ import annotations

import os
import re
import shlex

import nbformat
import pytest

from benchmarks import run_benchmarks
from tools import build_notebooks, prepare
from tools.course import (
    CELL_TIMEOUT_S,
    LANGUAGES,
    LESSONS_DIR,
    NOTEBOOKS_DIR,
    ROOT,
    committed_output_env,
    committed_output_environment,
    execute_notebook,
    lesson_sources,
    notebook_client,
    notebook_path,
    select_lessons,
)

# --- lesson selection ------------------------------------------------------------------------


def test_no_prefix_selects_every_lesson_in_order():
    sources = select_lessons()
    assert sources == lesson_sources()
    assert [p.name[:2] for p in sources] == sorted(p.name[:2] for p in sources)
    assert {p.parent for p in sources} == {LESSONS_DIR}
    # Only NN_slug.md files are lessons (not a README or notes next to them).
    assert all(re.fullmatch(r"\d\d_[a-z0-9_]+\.md", p.name) for p in sources)
    assert len(sources) >= 10


def test_prefixes_select_in_lesson_order_each_lesson_once():
    picked = select_lessons(["04", "00", "04_larger", "0"])
    assert [p.name for p in picked] == [p.name for p in lesson_sources() if p.name[0] == "0"]
    assert [p.name for p in select_lessons(["10", "03"])] == ["03_parallel_search.md",
                                                              "10_scaling_out.md"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_language_selects_its_built_notebooks(lang):
    picked = select_lessons(["03", "05"], lang=lang)
    assert picked == [NOTEBOOKS_DIR / lang / "03_parallel_search.ipynb",
                      NOTEBOOKS_DIR / lang / "05_xgboost.ipynb"]
    assert select_lessons(lang=lang) == [notebook_path(s, lang) for s in lesson_sources()]


def test_a_prefix_that_matches_nothing_names_it_and_lists_the_lessons():
    with pytest.raises(LookupError) as raised:
        select_lessons(["03", "3", "99"])
    message = str(raised.value)
    assert "'3', '99'" in message and "'03'" not in message
    assert "lessons/" in message
    assert "00, 01, 02, 03" in message and "10" in message
    with pytest.raises(LookupError, match=r"notebooks/en/ starts with '3'"):
        select_lessons(["3"], lang="en")


def test_an_unknown_language_is_an_error():
    with pytest.raises(ValueError, match="'fr'.*'es', 'en'"):
        select_lessons(lang="fr")


def test_notebook_path_is_the_language_folder_and_the_source_name():
    source = LESSONS_DIR / "07_pytorch_streaming.md"
    assert notebook_path(source, "es") == ROOT / "notebooks" / "es" / "07_pytorch_streaming.ipynb"


@pytest.mark.parametrize("main", [build_notebooks.main, prepare.main, run_benchmarks.main],
                         ids=["build_notebooks", "prepare", "run_benchmarks"])
def test_every_command_rejects_an_unknown_lesson_before_running_anything(main, capsys):
    with pytest.raises(SystemExit) as raised:
        main(["3"])
    assert raised.value.code == 2
    assert "no lesson in" in capsys.readouterr().err


# --- committed outputs: small data on a fresh local cluster ------------------------------------


def test_committed_output_env_forces_small_data_and_a_local_cluster():
    shell = {"COURSE_SIZE": "full", "DASK_SCHEDULER_ADDRESS": "tcp://10.0.0.5:8786",
             "PYTHONWARNINGS": "error", "HOME": "/home/ana"}
    env = committed_output_env(shell)
    assert env == {"COURSE_SIZE": "small", "PYTHONWARNINGS": "", "HOME": "/home/ana"}
    assert shell["COURSE_SIZE"] == "full", "the given environment must not change"


def test_committed_output_environment_applies_and_restores(monkeypatch):
    monkeypatch.setenv("COURSE_SIZE", "full")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.5:8786")
    monkeypatch.delenv("PYTHONWARNINGS", raising=False)
    before = dict(os.environ)
    with pytest.raises(KeyError), committed_output_environment():
        assert os.environ["COURSE_SIZE"] == "small"
        assert os.environ["PYTHONWARNINGS"] == ""
        assert "DASK_SCHEDULER_ADDRESS" not in os.environ
        raise KeyError("the block fails")
    assert dict(os.environ) == before


def _makefile_variable(name: str) -> str:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    match = re.search(rf"^{name}\s*:?=\s*(.*)$", text, re.MULTILINE)
    assert match, f"the Makefile defines no {name}"
    return match.group(1)


def _apply_env_command(words: list[str], environ: dict[str, str]) -> dict[str, str]:
    """What ``env -u NAME ... NAME=VALUE ...`` does to ``environ`` (the command's own part)."""
    assert words[0] == "env", words
    env, rest = dict(environ), words[1:]
    while rest:
        word = rest.pop(0)
        if word == "-u":
            env.pop(rest.pop(0), None)
        elif "=" in word:
            name, value = word.split("=", 1)
            env[name] = value
        else:
            raise AssertionError(f"TEST_ENV: unexpected word {word!r}")
    return env


def test_the_makefiles_test_env_is_the_committed_output_env():
    shell = {"COURSE_SIZE": "full", "DASK_SCHEDULER_ADDRESS": "tcp://10.0.0.5:8786",
             "PYTHONWARNINGS": "error", "HOME": "/home/ana"}
    words = shlex.split(_makefile_variable("TEST_ENV"))
    assert _apply_env_command(words, shell) == committed_output_env(shell)


def test_build_and_bench_run_in_the_committed_output_env(monkeypatch, tmp_path):
    monkeypatch.setenv("COURSE_SIZE", "full")
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", "tcp://10.0.0.5:8786")
    seen = []

    def record(*args, **kwargs):
        seen.append((os.environ.get("COURSE_SIZE"), os.environ.get("DASK_SCHEDULER_ADDRESS")))
        return run_benchmarks.NotebookRun(name="00_x")

    monkeypatch.setattr(build_notebooks, "build", record)
    monkeypatch.setattr(build_notebooks, "record_verification_dates", lambda: None)
    monkeypatch.setattr(run_benchmarks, "run_notebook", record)
    monkeypatch.setattr(run_benchmarks, "write_reports", lambda runs, lang: None)
    assert build_notebooks.main(["00"]) == 0
    assert run_benchmarks.main(["00"]) == 0
    assert seen == [("small", None), ("small", None)]
    assert os.environ["COURSE_SIZE"] == "full", "the shell's settings come back afterwards"


# --- the notebook executor ---------------------------------------------------------------------


def test_one_client_configuration_for_every_tool(tmp_path):
    client = notebook_client(nbformat.v4.new_notebook(), tmp_path)
    assert client.timeout == CELL_TIMEOUT_S == 600
    assert client.kernel_name == "python3"
    assert client.record_timing is False
    assert client.resources["metadata"]["path"] == str(tmp_path)


def test_execute_notebook_runs_the_cells_in_the_working_directory(tmp_path):
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("import os\nprint(os.getcwd())"),
        nbformat.v4.new_code_cell("print(os.environ.get('COURSE_SIZE'))"),
    ])
    with committed_output_environment():
        assert execute_notebook(notebook, tmp_path) is notebook
    printed = [cell.outputs[0]["text"].strip() for cell in notebook.cells]
    assert os.path.samefile(printed[0], tmp_path)
    assert printed[1] == "small", "the kernel inherits the committed-output environment"
    assert all("execution" not in cell.metadata for cell in notebook.cells), "timing recorded"
