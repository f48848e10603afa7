"""Lesson 09 must run without Java: every top-level use of Spark sits under ``if HAVE_JAVA:``.

Students without Java get one sentence telling them how to install it, and the Spark cells are
skipped; CI has Java and runs them. This static check catches a new Spark cell that forgets the
guard (the notebook would then fail with a Py4J/JAVA_GATEWAY_EXITED error on such machines).
"""

import ast

from tools.bilingual import read_source
from tools.course import LESSONS_DIR

SOURCE = LESSONS_DIR / "09_dask_and_spark.md"
# Names that need a running JVM: the session, and the helpers.spark functions that start, stop
# or read it.
SPARK_NAMES = {"spark", "sc", "start_spark", "stop_spark", "log_path", "spark_job",
               "tiny_spark_job"}


def _names(node) -> set[str]:
    return {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}


def _is_java_guard(statement) -> bool:
    return isinstance(statement, ast.If) and "HAVE_JAVA" in _names(statement.test)


def _unguarded_spark_uses(code: str) -> list[str]:
    problems = []
    for statement in ast.parse(code).body:
        if isinstance(statement, ast.FunctionDef | ast.ClassDef) or _is_java_guard(statement):
            continue
        used = _names(statement) & SPARK_NAMES
        if used:
            problems.append(f"line {statement.lineno}: {sorted(used)}")
    return problems


def test_spark_cells_are_guarded_by_have_java():
    cells = [c for c in read_source(SOURCE).cells if c.cell_type == "code"]
    assert any("HAVE_JAVA =" in c.source for c in cells), "the lesson must define HAVE_JAVA"
    problems = {}
    for index, cell in enumerate(cells):
        found = _unguarded_spark_uses(cell.source)
        if found:
            problems[index] = found
    assert problems == {}, f"Spark used outside `if HAVE_JAVA:` in code cells {problems}"


def test_the_checker_finds_an_unguarded_use():
    assert _unguarded_spark_uses("spark.range(3).count()") == ["line 1: ['spark']"]
    assert _unguarded_spark_uses("if HAVE_JAVA:\n    spark.stop()") == []
    assert _unguarded_spark_uses("def f():\n    return spark") == []
