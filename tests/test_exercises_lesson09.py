"""The checks of lesson 09's exercises accept the solution's answers and reject typical mistakes.

Exercise 1 needs a running Spark session; here a light stand-in with the surface the check uses
(``spark.sql(query).inputFiles()``) takes its place, so no JVM starts. Exercise 2 runs on the
``roomy_client`` cluster, over a few small parquet files like the lesson's player files.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from helpers.exercises.lesson09 import check_exercise_1, check_exercise_2
from helpers.i18n import set_language

# A cluster that stops making progress fails the test instead of hanging CI.
pytestmark = pytest.mark.timeout(300)

COLUMNS = ["platform", "session_minutes"]
PLATFORMS = ["android", "ios", "pc", "console"]


@pytest.fixture
def player_files(tmp_path):
    """Three parquet files with the lesson's columns (and one more, as in the player table)."""
    rng = np.random.default_rng(0)
    files = []
    for i in range(3):
        frame = pd.DataFrame({
            "platform": pd.Categorical(rng.choice(PLATFORMS, 400), categories=PLATFORMS),
            "session_minutes": rng.gamma(3, 10, 400),
            "level": rng.integers(1, 50, 400),
        })
        path = tmp_path / f"part-{i:05d}.parquet"
        frame.to_parquet(path)
        files.append(str(path))
    return files


def means_of(files, how="mean"):
    frame = pd.read_parquet(files, columns=COLUMNS)
    return frame.groupby("platform", observed=True)["session_minutes"].agg(how)


class StandInSpark:
    """What the check uses of a SparkSession: ``sql(query).inputFiles()``, over some files."""

    def __init__(self, files):
        self.files = files

    def sql(self, query):
        files = self.files

        class Frame:
            def inputFiles(self):  # noqa: N802 - Spark's name
                return [f"file://{path}" for path in files]

        return Frame()


QUERY = "SELECT platform, AVG(session_minutes) AS session_minutes FROM players GROUP BY platform"


def test_exercise_1_accepts_the_solution(player_files):
    spark = StandInSpark(player_files)
    answer = means_of(player_files)
    assert check_exercise_1(spark, QUERY, answer, player_files).ok
    # what toPandas() gives, without set_index: a platform column and the column of the mean
    as_frame = answer.rename("avg(session_minutes)").reset_index()
    assert check_exercise_1(spark, QUERY, as_frame, player_files).ok


def test_exercise_1_rejects_typical_mistakes(player_files):
    everything = StandInSpark(player_files)
    mistakes = {
        "reads 2 of the 3 player files": (
            StandInSpark(player_files[:2]), QUERY, means_of(player_files[:2])),
        "check which column you average": (
            everything, QUERY, means_of(player_files, how="sum")),
        "one row per platform": (
            everything, QUERY, pd.Series([30.0], index=["all"])),
        "the text of your SQL query": (
            everything, lambda: QUERY, means_of(player_files)),
    }
    for phrase, (spark, query, answer) in mistakes.items():
        feedback = check_exercise_1(spark, query, answer, player_files)
        assert not feedback.ok, phrase
        assert phrase in feedback.message


def test_exercise_2_accepts_the_solution_and_rejects_typical_mistakes(roomy_client,
                                                                      player_files):
    import dask.dataframe as dd
    from distributed import wait

    def mean_per_platform(data):
        return data.groupby("platform", observed=True)["session_minutes"].mean().compute()

    frame = dd.read_parquet(player_files, columns=COLUMNS)
    in_memory = dd.read_parquet(player_files).persist()
    wait(in_memory, timeout=120)
    from_parquet, persisted = mean_per_platform(frame), mean_per_platform(in_memory)
    assert check_exercise_2(frame, in_memory, from_parquet, persisted).ok

    lazy = dd.read_parquet(player_files)
    lazy.persist()
    mistakes = {
        "`in_memory` is not persisted": (frame, lazy, from_parquet, persisted),
        "`frame` is already in memory": (in_memory, in_memory, from_parquet, persisted),
        "Both paths should give the same means": (
            frame, in_memory, from_parquet, means_of(player_files[:1])),
        "Your means are still lazy": (
            frame, in_memory, from_parquet,
            in_memory.groupby("platform", observed=True)["session_minutes"].mean()),
    }
    for phrase, answer in mistakes.items():
        feedback = check_exercise_2(*answer)
        assert not feedback.ok, phrase
        assert phrase in feedback.message

    set_language("es")
    feedback = check_exercise_2(frame, lazy, from_parquet, persisted)
    assert "`in_memory` no está persistido" in feedback.message
    assert "vive en la memoria" in check_exercise_2(frame, in_memory, from_parquet,
                                                    persisted).message
