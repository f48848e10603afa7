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
* optionally (``quick_jvm``), JVM options for short local sessions: compile quickly rather
  than optimally (``-XX:TieredStopAtLevel=1``), use the simplest garbage collector
  (``-XX:+UseSerialGC``), and keep the heap as small as the data allow (``-Xms32m`` and
  :data:`QUICK_JVM_HEAP`). With small data a fresh JVM spends more CPU compiling than computing,
  and by default its heap starts at 1/64 of the machine's RAM (384 MiB on a 24 GiB machine) and
  never shrinks below that; for long jobs, keep the JVM's defaults;
* optionally (``reuse_python_workers=False``), Python workers that are started for a task and
  exit when it ends (``spark.python.worker.reuse=false``), launched directly rather than forked
  from a Python daemon (``spark.python.use.daemon=false``, what Spark always does on Windows).
  Spark keeps its workers alive by default, to save starting one for the next task, but an idle
  worker that imported XGBoost keeps all of it in memory; and the daemons (one per kind of
  Python job) are Python processes too. On a laptop, in a short session, that memory is better
  given back.

:func:`spark_progress` shows a progress bar in the notebook for the Spark jobs of a ``with``
block (Spark's own one writes to the JVM's console, which is in the log file here).

:func:`run_in_new_process` runs a function the way ``TorchDistributor`` runs each rank: in a
fresh Python process, pickled with cloudpickle, with its result pickled back.

Nothing happens at import time, and PySpark is imported only when a session starts.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from helpers.cluster import LOOPBACK

#: The oldest Java that Spark 4 runs on.
JAVA_MIN_VERSION = 17
#: How the heap of a short session grows and shrinks: it starts at 32 MiB instead of 1/64 of the
#: machine's RAM, and after each full collection it gives memory back to the system while more
#: than 30 % of it is free (and grows when less than 10 % is).
QUICK_JVM_HEAP = "-Xms32m -XX:MinHeapFreeRatio=10 -XX:MaxHeapFreeRatio=30"
#: JVM options for a short local session (see the module's docstring).
QUICK_JVM_OPTIONS = f"-XX:TieredStopAtLevel=1 -XX:+UseSerialGC {QUICK_JVM_HEAP}"
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


def java_version() -> int | None:
    """The major version of the ``java`` that Spark would use (``$JAVA_HOME`` first), or None.

    Returns
    -------
    int or None
        Such as ``17`` or ``21`` (``8`` for a ``1.8.0_392``); ``None`` when there is no
        ``java`` or it does not say its version.

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
    """True when the ``java`` Spark would use is version ``minimum`` (17) or later.

    Parameters
    ----------
    minimum : int
        The oldest major version accepted; default :data:`JAVA_MIN_VERSION`.

    Returns
    -------
    bool
        ``False`` also when there is no ``java`` at all (:func:`java_version`).

    Examples
    --------
    >>> have_java() == (java_version() is not None and java_version() >= JAVA_MIN_VERSION)
    True
    >>> have_java(minimum=10**6)
    False
    """
    version = java_version()
    return version is not None and version >= minimum


def spark_conf(cores: int = 2, driver_memory: str = "512m", *, spark_dir: str | os.PathLike,
               quick_jvm: bool = True, reuse_python_workers: bool = True,
               app_name: str = "dask-ml-course"):
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
    reuse_python_workers : bool
        Keep each Python worker alive for the next task, forked from a Python daemon (Spark's
        default); or start one for each task, directly, and let it exit when its task ends,
        giving back what it imported (``spark.python.worker.reuse`` and
        ``spark.python.use.daemon`` both ``false``).
    app_name : str
        The application's name.

    Returns
    -------
    pyspark.SparkConf

    Examples
    --------
    >>> conf = spark_conf(2, "512m", spark_dir="/tmp/spark-test")
    >>> conf.get("spark.master"), conf.get("spark.sql.shuffle.partitions")
    ('local[2]', '4')
    >>> "-XX:+UseSerialGC" in conf.get("spark.driver.extraJavaOptions")
    True
    >>> conf.get("spark.python.worker.reuse"), conf.get("spark.python.use.daemon")
    ('true', 'true')
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
        .set("spark.python.worker.reuse", str(reuse_python_workers).lower())
        .set("spark.python.use.daemon", str(reuse_python_workers).lower())
    )


def start_spark(cores: int = 2, driver_memory: str = "512m", *, quick_jvm: bool = True,
                reuse_python_workers: bool = True, app_name: str = "dask-ml-course"):
    """A local ``SparkSession`` with fixed resources, on 127.0.0.1, its JVM's output in a log file.

    Reuses the active session if there is one (re-running a cell starts no second JVM). The
    JVM's stdout and stderr go to ``spark.log`` in a new temporary folder (Spark's scratch
    folder too), which :func:`stop_spark` deletes. Sets ``SPARK_LOCAL_IP`` and
    ``PYSPARK_PYTHON`` (this kernel's Python) in this process's environment, for the JVM and its
    Python workers.

    Parameters
    ----------
    cores, driver_memory, quick_jvm, reuse_python_workers, app_name
        As for :func:`spark_conf`.

    Returns
    -------
    pyspark.sql.SparkSession

    Examples
    --------
    >>> spark = start_spark(cores=2, driver_memory="512m")  # doctest: +SKIP
    >>> spark.range(10).count()                             # doctest: +SKIP
    10
    >>> log_path(spark).name                                # doctest: +SKIP
    'spark.log'
    >>> stop_spark(spark); java_processes()                 # doctest: +SKIP
    0
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
                      reuse_python_workers=reuse_python_workers, app_name=app_name)
    with open(spark_dir / "spark.log", "ab") as log:
        gateway = launch_gateway(conf, popen_kwargs={"stdout": log, "stderr": log})
    return SparkSession(SparkContext(conf=conf, gateway=gateway))


def log_path(spark) -> Path:
    """Where :func:`start_spark` sends the JVM's output for ``spark``.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        A session from :func:`start_spark`.

    Returns
    -------
    pathlib.Path
        ``spark.log`` in the session's scratch folder (see :func:`start_spark` for an example).
    """
    return Path(spark.sparkContext.getConf().get("spark.local.dir")) / "spark.log"


def stop_spark(spark) -> None:
    """Stop the session *and* its JVM, and delete its temporary folder.

    ``spark.stop()`` alone leaves the JVM running, in case another session starts later: in a
    script it dies when Python exits, but in a notebook it would keep holding memory. Here the
    gateway is shut down and the JVM, which exits when its standard input closes, is waited for.
    The next :func:`start_spark` launches a fresh JVM.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        A session from :func:`start_spark` (see there for an example).

    Raises
    ------
    subprocess.TimeoutExpired
        When the JVM has not exited a minute after its standard input closed.
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


def stage_totals(tracker, job_ids) -> tuple[int, int, int]:
    """Stages, finished tasks and tasks of the Spark jobs ``job_ids``, from a status tracker.

    A finished job may list stages that never ran: Spark skips a stage whose output it already
    has (a shuffle an earlier job wrote). Those, with no finished task in a job that succeeded,
    are left out, and so are jobs or stages Spark no longer remembers.

    Parameters
    ----------
    tracker : pyspark.StatusTracker
        ``spark.sparkContext.statusTracker()``, or anything with its ``getJobInfo`` and
        ``getStageInfo``.
    job_ids : iterable of int
        The jobs to count.

    Returns
    -------
    tuple of int
        ``(stages, finished_tasks, tasks)``.

    Examples
    --------
    >>> from types import SimpleNamespace as Info
    >>> class Tracker:
    ...     jobs = {7: Info(stageIds=[0, 1], status="RUNNING"),
    ...             8: Info(stageIds=[2, 3], status="SUCCEEDED")}
    ...     def getJobInfo(self, job_id):
    ...         return self.jobs.get(job_id)
    ...     def getStageInfo(self, stage_id):  # odd stages have finished their 2 tasks
    ...         return Info(numCompletedTasks=stage_id % 2 * 2, numTasks=2)
    >>> stage_totals(Tracker(), [7, 8, 9])  # stage 2 was skipped; job 9 is forgotten
    (3, 4, 6)
    """
    stages = finished = tasks = 0
    for job_id in job_ids:
        job = tracker.getJobInfo(job_id)
        for stage_id in job.stageIds if job is not None else ():
            stage = tracker.getStageInfo(stage_id)
            if stage is None or (job.status == "SUCCEEDED" and not stage.numCompletedTasks):
                continue
            stages += 1
            finished += stage.numCompletedTasks
            tasks += stage.numTasks
    return stages, finished, tasks


@contextmanager
def spark_progress(spark, interval_s: float = 0.2):
    """Show a progress bar for the Spark jobs that run inside the ``with`` block.

    Spark's console progress bar is written by the JVM (here to ``spark.log``, and off). This bar
    lives in the notebook: a background thread asks the driver's status tracker, every
    ``interval_s`` seconds, about the jobs started since the block began (those without a job
    group, as the course's are) and shows their stages and finished tasks out of all their tasks,
    in the lesson's language. When the block ends the bar is brought up to date one last time,
    and it turns green, or red if the block raised.

    Parameters
    ----------
    spark : pyspark.sql.SparkSession
        The session whose jobs to follow.
    interval_s : float
        Seconds between two looks at the status tracker.

    Yields
    ------
    ipywidgets.IntProgress
        The bar: ``value`` finished tasks out of ``max``, and its text in ``description``.

    Examples
    --------
    >>> with spark_progress(spark):                        # doctest: +SKIP
    ...     totals = spark.read.parquet(path).groupBy("player").count().collect()
    """
    import threading

    import ipywidgets as widgets
    from IPython.display import display

    from helpers.i18n import text

    tracker = spark.sparkContext.statusTracker()
    earlier = set(tracker.getJobIdsForGroup())
    bar = widgets.IntProgress(value=0, min=0, max=1, bar_style="info",
                              style={"description_width": "initial"})
    display(bar)
    stop = threading.Event()

    def update():
        new_jobs = set(tracker.getJobIdsForGroup()) - earlier
        stages, finished, tasks = stage_totals(tracker, new_jobs)
        bar.max, bar.value = max(tasks, 1), finished
        bar.description = text(es=f"Spark · trabajos: {len(new_jobs)}, etapas: {stages}, "
                                  f"tareas: {finished}/{tasks}",
                               en=f"Spark · jobs: {len(new_jobs)}, stages: {stages}, "
                                  f"tasks: {finished}/{tasks}")

    def keep_updating():
        while not stop.wait(interval_s):
            update()

    thread = threading.Thread(target=keep_updating, name="spark-progress", daemon=True)
    thread.start()
    failed = True
    try:
        yield bar
        failed = False
    finally:
        stop.set()
        thread.join()
        update()
        bar.bar_style = "danger" if failed else "success"


def java_processes() -> int:
    """How many ``java`` processes run below this one (0 once :func:`stop_spark` is done).

    Returns
    -------
    int

    Examples
    --------
    >>> java_processes()  # no Spark session started here
    0
    """
    import psutil

    count = 0
    for process in psutil.Process().children(recursive=True):
        try:
            count += "java" in process.name()
        except psutil.Error:
            continue
    return count


# --- one training process, as TorchDistributor starts it --------------------------------------

#: What the new process runs: unpickle the function and its arguments, call it, pickle the result.
_CALL = ("import pickle, sys\n"
         "function, args = pickle.load(open(sys.argv[1], 'rb'))\n"
         "result = function(*args)\n"
         "pickle.dump(result, open(sys.argv[2], 'wb'))\n")


@dataclass
class ProcessRun:
    """What :func:`run_in_new_process` measured.

    Attributes
    ----------
    result : object
        What the function returned.
    seconds : float
        Wall time from starting the process until it exited.
    peak_mib : float
        The process's peak resident memory, sampled from outside.
    stderr : str
        What the process wrote on stderr.
    """

    #: What the function returned.
    result: Any
    #: Wall time from starting the process until it exited, in seconds.
    seconds: float
    #: The process's peak resident memory (RSS), sampled from outside, in MiB.
    peak_mib: float
    #: What the process wrote on stderr (empty when all went well).
    stderr: str


def run_in_new_process(function, *args, timeout_s: float = 300.0,
                       interval_s: float = 0.02) -> ProcessRun:
    """Run ``function(*args)`` in a fresh Python process and measure it from outside.

    This is how ``pyspark.ml.torch.distributor.TorchDistributor`` runs a training function on
    each rank: pickled with cloudpickle (so a function defined in a notebook travels by value),
    unpickled and called by a new Python interpreter (this kernel's), its result pickled back.
    Whatever the function imports (PyTorch, say) lives and dies with that process, so this
    kernel does not keep it in memory afterwards. The process's resident memory is sampled every
    ``interval_s`` seconds while it runs; its stdout and stderr are captured.

    Parameters
    ----------
    function : callable
        Picklable with cloudpickle; it must return a picklable result.
    *args
        Its arguments.
    timeout_s : float
        How long to wait for the process before killing it.
    interval_s : float
        Seconds between memory samples.

    Returns
    -------
    ProcessRun
        The result, the wall time, the peak memory and the stderr of the process.

    Raises
    ------
    RuntimeError
        If the process fails or takes longer than ``timeout_s``; the message ends with its stderr.

    Examples
    --------
    >>> run = run_in_new_process(pow, 2, 10)
    >>> run.result, run.peak_mib > 1, run.stderr
    (1024, True, '')
    """
    import cloudpickle
    import psutil

    with tempfile.TemporaryDirectory(prefix="course-process-") as folder:
        call, answer = Path(folder, "call.pkl"), Path(folder, "result.pkl")
        call.write_bytes(cloudpickle.dumps((function, args)))
        with open(Path(folder, "stderr.log"), "w+b") as errors:
            started = time.perf_counter()
            process = subprocess.Popen([sys.executable, "-c", _CALL, str(call), str(answer)],
                                       stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                       stderr=errors)
            watched, peak = psutil.Process(process.pid), 0
            try:
                while True:
                    try:
                        peak = max(peak, watched.memory_info().rss)
                    except psutil.Error:
                        pass
                    if process.poll() is not None:
                        break
                    if time.perf_counter() - started > timeout_s:
                        raise TimeoutError
                    time.sleep(interval_s)
            except TimeoutError:
                process.kill()
                process.wait()
                raise RuntimeError(f"the process took longer than {timeout_s} s") from None
            seconds = time.perf_counter() - started
            errors.seek(0)
            stderr = errors.read().decode(errors="replace")
        if process.returncode != 0 or not answer.exists():
            raise RuntimeError(f"the process failed (exit code {process.returncode}):\n{stderr}")
        result = cloudpickle.loads(answer.read_bytes())
    return ProcessRun(result=result, seconds=seconds, peak_mib=peak / 2**20, stderr=stderr)
