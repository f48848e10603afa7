"""Start and stop a local Spark session for the course, quietly and with fixed resources.

Lesson 09 compares Dask with Spark on one machine. It shows one line for each step and this
module does the plumbing behind it::

    from helpers.spark import have_java, start_spark, stop_spark

    if have_java():                     # Spark needs Java 17 or later
        spark = start_spark(cores=2, driver_memory="512m")
        ...
        stop_spark(spark)               # the session *and* its JVM

What :func:`start_spark` adds to the usual ``SparkSession.builder...getOrCreate()``:

* resources fixed (``local[cores]``, the driver's memory), every server on 127.0.0.1, the web UI
  and the console progress bar off, few shuffle partitions (the default, 200, is for big
  clusters), and the workers' Python the same as this kernel's;
* the JVM's own output sent to ``spark.log`` in a temporary folder, as on a real cluster: the
  JVM writes start-up warnings straight to its stderr (some before its logging even exists),
  and in Jupyter that stderr is the notebook's. The builder cannot redirect it, so the JVM is
  launched with ``pyspark.java_gateway.launch_gateway`` (what PySpark uses inside), which takes
  arguments for ``subprocess.Popen``; a ``log4j2.properties`` file sets Spark's logging to
  ``ERROR``;
* optionally (``quick_jvm``), two JVM options for short local sessions: compile quickly rather
  than optimally (``-XX:TieredStopAtLevel=1``) and use the simplest garbage collector
  (``-XX:+UseSerialGC``). With small data a fresh JVM spends more CPU compiling than computing;
  for long jobs, keep the JVM's defaults.

Nothing happens at import time, and PySpark is imported only when a session starts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

#: The oldest Java that Spark 4 runs on.
JAVA_MIN_VERSION = 17
#: JVM options for a short local session (see the module's docstring).
QUICK_JVM_OPTIONS = "-XX:TieredStopAtLevel=1 -XX:+UseSerialGC"
#: Spark's logging: errors only, to the JVM's stderr (which goes to ``spark.log``).
LOG4J2 = """\
rootLogger.level = error
rootLogger.appenderRef.console.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
"""
LOOPBACK = "127.0.0.1"


def java_version() -> int | None:
    """The major version of the ``java`` that Spark would use (``$JAVA_HOME`` first), or None.

    Examples
    --------
    >>> version = java_version()
    >>> version is None or version >= 8
    True
    """
    home = os.environ.get("JAVA_HOME")
    java = str(Path(home, "bin", "java")) if home else shutil.which("java")
    if not java or not Path(java).exists():
        return None
    try:
        banner = subprocess.run([java, "-version"], capture_output=True, text=True,
                                timeout=60).stderr
    except (OSError, subprocess.SubprocessError):
        return None
    # "1.8.0_392" is Java 8; from Java 9 on the first number is the major version.
    match = re.search(r'version "(?:1\.)?(\d+)', banner)
    return int(match.group(1)) if match else None


def have_java(minimum: int = JAVA_MIN_VERSION) -> bool:
    """True when the ``java`` Spark would use is version ``minimum`` (17) or later."""
    version = java_version()
    return version is not None and version >= minimum


def spark_conf(cores: int = 2, driver_memory: str = "512m", *, spark_dir: str | os.PathLike,
               quick_jvm: bool = True, app_name: str = "dask-ml-course"):
    """The ``SparkConf`` of :func:`start_spark` (no JVM is started).

    Parameters
    ----------
    cores : int
        Worker threads of the local master (``local[cores]``); shuffles make ``2 * cores``
        partitions.
    driver_memory : str
        The JVM heap, such as ``"512m"`` or ``"2g"``: it will not grow beyond it.
    spark_dir : path
        Spark's scratch folder, where ``log4j2.properties`` is expected.
    quick_jvm : bool
        Add :data:`QUICK_JVM_OPTIONS` (for short sessions on small data).
    app_name : str
        The application's name.

    Examples
    --------
    >>> conf = spark_conf(2, "512m", spark_dir="/tmp/spark-test")
    >>> conf.get("spark.master"), conf.get("spark.sql.shuffle.partitions")
    ('local[2]', '4')
    >>> "-XX:+UseSerialGC" in conf.get("spark.driver.extraJavaOptions")
    True
    """
    from pyspark import SparkConf

    spark_dir = Path(spark_dir)
    java_options = f"-Dlog4j2.configurationFile=file:{spark_dir / 'log4j2.properties'}"
    if quick_jvm:
        java_options = f"{QUICK_JVM_OPTIONS} {java_options}"
    return (
        SparkConf()
        .setMaster(f"local[{cores}]")
        .setAppName(app_name)
        .set("spark.driver.memory", driver_memory)
        .set("spark.driver.host", LOOPBACK)
        .set("spark.driver.bindAddress", LOOPBACK)
        .set("spark.ui.enabled", "false")
        .set("spark.ui.showConsoleProgress", "false")
        .set("spark.sql.shuffle.partitions", str(2 * cores))
        .set("spark.local.dir", str(spark_dir))
        .set("spark.driver.extraJavaOptions", java_options)
    )


def start_spark(cores: int = 2, driver_memory: str = "512m", *, quick_jvm: bool = True,
                app_name: str = "dask-ml-course"):
    """A local ``SparkSession`` with fixed resources, on 127.0.0.1, its JVM's output in a log file.

    Reuses the active session if there is one (re-running a cell starts no second JVM). The
    JVM's stdout and stderr go to ``spark.log`` in a new temporary folder (Spark's scratch
    folder too), which :func:`stop_spark` deletes. Sets ``SPARK_LOCAL_IP`` and
    ``PYSPARK_PYTHON`` (this kernel's Python) in this process's environment, for the JVM and its
    Python workers. Parameters as :func:`spark_conf`.

    Returns
    -------
    pyspark.sql.SparkSession
    """
    from pyspark import SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    active = SparkSession.getActiveSession()
    if active is not None:
        return active
    spark_dir = Path(tempfile.mkdtemp(prefix="course-spark-"))
    (spark_dir / "log4j2.properties").write_text(LOG4J2)
    os.environ["SPARK_LOCAL_IP"] = LOOPBACK
    os.environ["PYSPARK_PYTHON"] = sys.executable
    conf = spark_conf(cores, driver_memory, spark_dir=spark_dir, quick_jvm=quick_jvm,
                      app_name=app_name)
    with open(spark_dir / "spark.log", "ab") as log:
        gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
    return SparkSession(SparkContext(conf=conf, gateway=gateway))


def log_path(spark) -> Path:
    """Where :func:`start_spark` sends the JVM's output for ``spark``."""
    return Path(spark.sparkContext.getConf().get("spark.local.dir")) / "spark.log"


def stop_spark(spark) -> None:
    """Stop the session *and* its JVM, and delete its temporary folder.

    ``spark.stop()`` alone leaves the JVM running, in case another session starts later: in a
    script it dies when Python exits, but in a notebook it would keep holding memory. Here the
    gateway is shut down and the JVM, which exits when its standard input closes, is waited for.
    The next :func:`start_spark` launches a fresh JVM.
    """
    from pyspark import SparkContext

    gateway = spark.sparkContext._gateway
    spark_dir = Path(spark.sparkContext.getConf().get("spark.local.dir"))
    spark.stop()
    gateway.shutdown()
    gateway.proc.stdin.close()
    gateway.proc.wait(timeout=60)
    SparkContext._gateway = SparkContext._jvm = None
    shutil.rmtree(spark_dir, ignore_errors=True)


def java_processes() -> int:
    """How many ``java`` processes run below this one (0 once :func:`stop_spark` is done)."""
    import psutil

    count = 0
    for process in psutil.Process().children(recursive=True):
        try:
            count += "java" in process.name()
        except psutil.Error:
            continue
    return count
