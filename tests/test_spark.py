"""helpers.spark: which Java, the session's settings, and a quiet start and a full stop."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tools.course import ROOT

# Not installed in the light environment of `make test-other-python`.
pytest.importorskip("pyspark")

from helpers.spark import (
    QUICK_JVM_HEAP,
    QUICK_JVM_OPTIONS,
    have_java,
    java_version,
    run_in_new_process,
    spark_conf,
)


def _fake_java(tmp_path, banner):
    """A JAVA_HOME whose bin/java prints ``banner`` on stderr, as ``java -version`` does."""
    java = tmp_path / "bin" / "java"
    java.parent.mkdir(parents=True)
    java.write_text(f"#!/bin/sh\necho '{banner}' >&2\n")
    java.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize("banner, version", [
    ('openjdk version "17.0.15" 2025-04-15', 17),
    ('openjdk version "21" 2023-09-19', 21),
    ('java version "1.8.0_392"', 8),
    ("no version here", None),
])
def test_java_version_reads_the_banner(tmp_path, monkeypatch, banner, version):
    monkeypatch.setenv("JAVA_HOME", str(_fake_java(tmp_path, banner)))
    assert java_version() == version
    assert have_java() is (version is not None and version >= 17)


def test_no_java_means_none(tmp_path, monkeypatch):
    monkeypatch.setenv("JAVA_HOME", str(tmp_path / "nowhere"))
    assert java_version() is None
    assert have_java() is False


def test_spark_conf_fixes_resources_and_loopback(tmp_path):
    conf = spark_conf(3, "1g", spark_dir=tmp_path, quick_jvm=False)
    assert conf.get("spark.master") == "local[3]"
    assert conf.get("spark.driver.memory") == "1g"
    assert conf.get("spark.driver.host") == conf.get("spark.driver.bindAddress") == "127.0.0.1"
    assert conf.get("spark.ui.enabled") == "false"
    assert conf.get("spark.sql.shuffle.partitions") == "6"
    assert conf.get("spark.local.dir") == str(tmp_path)
    options = conf.get("spark.driver.extraJavaOptions")
    assert f"file:{tmp_path / 'log4j2.properties'}" in options
    assert QUICK_JVM_OPTIONS not in options
    quick = spark_conf(2, spark_dir=tmp_path)
    assert QUICK_JVM_OPTIONS in quick.get("spark.driver.extraJavaOptions")
    # The heap of a short session starts small and gives memory back; -Xmx stays Spark's own.
    assert QUICK_JVM_HEAP in quick.get("spark.driver.extraJavaOptions")
    assert "-Xmx" not in quick.get("spark.driver.extraJavaOptions")


def test_python_workers_are_reused_unless_told_otherwise(tmp_path):
    default = spark_conf(2, spark_dir=tmp_path)
    assert default.get("spark.python.worker.reuse") == default.get("spark.python.use.daemon")
    assert default.get("spark.python.worker.reuse") == "true"
    once = spark_conf(2, spark_dir=tmp_path, reuse_python_workers=False)
    assert once.get("spark.python.worker.reuse") == once.get("spark.python.use.daemon") == "false"


# The functions sent to the new process are defined inside each test: like a function defined in
# a notebook, cloudpickle then sends them by value (a module-level function of this file would
# travel by reference, and the new process could not import the test module).

def test_run_in_new_process_keeps_imports_out_of_this_process():
    import os
    import sys

    def imports_in_child():
        import os
        import sys

        import numpy  # noqa: F401

        return "numpy" in sys.modules, os.getpid()

    had_numpy = "numpy" in sys.modules
    run = run_in_new_process(imports_in_child)
    imported, pid = run.result
    assert imported and pid != os.getpid()
    assert ("numpy" in sys.modules) == had_numpy
    assert run.peak_mib > 1 and run.seconds > 0 and run.stderr == ""


def test_run_in_new_process_reports_the_error():
    def fails():
        raise ValueError("broken on purpose")

    with pytest.raises(RuntimeError, match="broken on purpose"):
        run_in_new_process(fails)


def test_run_in_new_process_gives_up_after_the_timeout():
    def sleeps():
        import time

        time.sleep(30)

    with pytest.raises(RuntimeError, match="longer than"):
        run_in_new_process(sleeps, timeout_s=1)


SCRIPT = textwrap.dedent(
    """
    from helpers.spark import java_processes, log_path, start_spark, stop_spark

    spark = start_spark(cores=1, driver_memory="512m")
    assert start_spark() is spark, "a second call must reuse the active session"
    assert spark.range(10).count() == 10
    log, folder = log_path(spark), log_path(spark).parent
    assert log.exists() and java_processes() == 1
    stop_spark(spark)
    assert java_processes() == 0, "the JVM is still running"
    assert not folder.exists(), "the temporary folder is still there"
    print("stopped cleanly")
    """
)


def _run_script(tmp_path, source: str) -> subprocess.CompletedProcess:
    """Run ``source`` in a fresh Python (a JVM per test, as in a new kernel); it must succeed."""
    script = tmp_path / "spark_script.py"
    script.write_text(source)
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done


@pytest.mark.skipif(not have_java(), reason="Spark needs Java 17 or later")
def test_start_is_quiet_and_stop_ends_the_jvm(tmp_path):
    done = _run_script(tmp_path, SCRIPT)
    assert "stopped cleanly" in done.stdout
    # The JVM's start-up warnings went to spark.log: nothing reached our stderr.
    assert done.stderr == "", done.stderr[-2000:]


PROGRESS_SCRIPT = textwrap.dedent(
    """
    from helpers.i18n import set_language
    from helpers.spark import spark_progress, start_spark, stop_spark

    set_language("es")
    spark = start_spark(cores=1, driver_memory="512m")
    spark.range(10).count()  # a job before the block, which the bar must leave out
    with spark_progress(spark, interval_s=0.05) as bar:
        assert spark.range(0, 1000, numPartitions=4).count() == 1000
    assert bar.max == bar.value >= 4, (bar.value, bar.max)
    # count() runs one or two jobs (adaptive query execution may split it).
    assert bar.description.startswith("Spark · trabajos: "), bar.description
    assert bar.description.endswith(f"tareas: {bar.value}/{bar.max}"), bar.description
    assert bar.bar_style == "success"
    try:
        with spark_progress(spark) as failing:
            raise KeyError("in the block")
    except KeyError:
        assert failing.bar_style == "danger"
    else:
        raise AssertionError("the exception was swallowed")
    stop_spark(spark)
    print("progress shown")
    """
)


@pytest.mark.skipif(not have_java(), reason="Spark needs Java 17 or later")
def test_spark_progress_counts_the_tasks_of_the_block(tmp_path):
    assert "progress shown" in _run_script(tmp_path, PROGRESS_SCRIPT).stdout
