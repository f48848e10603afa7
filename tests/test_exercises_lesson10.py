"""The checks of lesson 10's exercises accept the solution's answers and reject typical mistakes.

Exercise 1 runs a flaky read on the ``local_client`` cluster; exercise 2 builds real
``SLURMCluster`` objects (they start a scheduler on 127.0.0.1 and need no SLURM).
"""

from __future__ import annotations

import pytest

from helpers.exercises.lesson10 import check_exercise_1, check_exercise_2, check_exercise_3
from helpers.i18n import set_language

# A cluster that stops making progress fails the test instead of hanging CI.
pytestmark = pytest.mark.timeout(300)


def flaky_read():
    """The lesson's ``flaky_load``, made here so that it travels to the workers by value."""

    def flaky_load(part, failures, counter):
        with counter.open("ab") as attempts:
            attempts.write(b".")
        attempt = counter.stat().st_size
        if attempt <= failures:
            raise ConnectionError(f"attempt {attempt}: connection reset on part {part}")
        return f"part {part} loaded on attempt {attempt}"

    return flaky_load


def test_exercise_1_accepts_the_solution_and_rejects_typical_mistakes(local_client, tmp_path):
    from distributed import wait

    flaky_load = flaky_read()

    def read(retries, failures=3):
        counter = tmp_path / f"{retries}-{failures}.attempts"
        counter.write_bytes(b"")
        return local_client.submit(flaky_load, retries, failures=failures, counter=counter,
                                   retries=retries)

    reads = {retries: read(retries) for retries in (2, 3, 4)}
    too_few_failures = {retries: read(retries, failures=2) for retries in (1, 2)}
    wait(list(reads.values()) + list(too_few_failures.values()))
    assert check_exercise_1({2: reads[2], 3: reads[3]}).ok
    assert check_exercise_1(reads).ok

    mistakes = {
        "Your read works with `retries=2`, which is not enough": too_few_failures,
        "Also check that with one fewer": {3: reads[3]},
        "is it the smallest? Try fewer": {4: reads[4]},
        "a dictionary {retries: future}": {2: "failed", 3: "part 3 loaded on attempt 4"},
    }
    for phrase, answer in mistakes.items():
        feedback = check_exercise_1(answer)
        assert not feedback.ok, phrase
        assert phrase in feedback.message


def slurm(**changes):
    """The exercise's SLURMCluster, with ``changes`` to its arguments; closed unless asked."""
    from dask_jobqueue import SLURMCluster

    close = changes.pop("close", True)
    arguments = dict(cores=32, processes=8, memory="128GiB", queue="long", walltime="04:00:00",
                     python="python",
                     scheduler_options={"host": "127.0.0.1", "dashboard_address": "127.0.0.1:0",
                                        "dashboard": False})
    cluster = SLURMCluster(**arguments | changes)
    if close:
        cluster.close()
    return cluster


def test_exercise_2_accepts_the_solution_and_rejects_typical_mistakes():
    assert check_exercise_2(slurm()).ok
    assert check_exercise_2(slurm(walltime="240")).ok

    mistakes = {
        "it should be 8: the number of workers per job is set by `processes`":
            slurm(processes=4),
        "16 GB rather than 16 GiB": slurm(memory="128GB"),
        "a worker's threads come from splitting `cores`": slurm(cores=8),
        "should go to the `long` queue": slurm(queue="normal"),
        "it should be 4 hours": slurm(walltime="01:00:00"),
    }
    for phrase, cluster in mistakes.items():
        feedback = check_exercise_2(cluster)
        assert not feedback.ok, phrase
        assert phrase in feedback.message
    still_open = slurm(close=False)
    try:
        feedback = check_exercise_2(still_open)
        assert not feedback.ok
        assert "is still open" in feedback.message
    finally:
        still_open.close()
    assert "not its script" in check_exercise_2(still_open.job_script()).message


def thresholds():
    import dask
    import distributed  # noqa: F401 - loads the defaults of distributed.worker.memory

    return {name: dask.config.get(f"distributed.worker.memory.{name}")
            for name in ("target", "spill", "pause", "terminate")}


def test_exercise_3_accepts_the_solution():
    from dask.utils import format_bytes

    memory_at = {name: int(fraction * 4 * 2**30) for name, fraction in thresholds().items()}
    assert check_exercise_3(memory_at).ok
    as_text = {name: format_bytes(memory_at[name]) for name in ("spill", "pause", "terminate")}
    assert check_exercise_3(as_text).ok


@pytest.mark.parametrize(("answer", "phrase"), [
    (lambda f: f, "not the configuration's fractions"),
    (lambda f: {name: fraction * 4e9 for name, fraction in f.items()}, "a limit of 4 GB"),
    (lambda f: {name: f[swap] * 4 * 2**30 for name, swap in
                {"spill": "spill", "pause": "terminate", "terminate": "pause"}.items()},
     "Check `pause`"),
    (lambda f: {"pause": f["pause"] * 4 * 2**30}, "at least `spill`"),
])
def test_exercise_3_rejects_typical_mistakes(answer, phrase):
    feedback = check_exercise_3(answer(thresholds()))
    assert not feedback.ok
    assert phrase in feedback.message


def test_exercise_3_speaks_spanish():
    set_language("es")
    feedback = check_exercise_3(thresholds())
    assert "no las fracciones de la configuración" in feedback.message
    memory_at = {name: fraction * 4 * 2**30 for name, fraction in thresholds().items()}
    assert "su nanny lo mata" in check_exercise_3(memory_at).message
