"""XGBoost's "got rank" line and ``helpers.workers.worker_stderr_to_log``, with today's XGBoost.

``xgboost.dask`` makes every worker's C++ core write ``[HH:MM:SS] Task [xgboost.dask-N]:tcp://...
got rank N`` to the worker process's stderr, whatever the verbosity. In a notebook the workers of
a LocalCluster share the kernel's stderr, so the line lands in a cell and fails the quiet-output
test. Lessons 05 and 09 train inside ``xgboost_training`` (from ``helpers.workers``), which points
each worker's file descriptor 2 at a log file while the block runs and puts it back afterwards.

This test runs three trainings in a child process, whose stderr we can read whole:

* without the redirect the line must appear even with ``verbosity=0`` (if that ever stops being
  true, XGBoost fixed it upstream and the lessons can drop their workaround);
* inside the block nothing reaches stderr, and the lines are in the workers' log files;
* after the block the workers' stderr is back: the line reaches stderr again.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

from tools.course import ROOT

# Not installed in the light environment of `make test-other-python`.
pytest.importorskip("xgboost")


INSIDE = "=== inside xgboost_training ==="
AFTER = "=== after xgboost_training ==="

SCRIPT = textwrap.dedent(
    f"""
    import sys

    import numpy as np
    import pandas as pd
    import dask.dataframe as dd
    import xgboost
    import xgboost.dask as dxgb

    from helpers.cluster import close_client, get_client
    from helpers.workers import log_lines, work_stealing_off, xgboost_training


    def train(client, X, y):
        with xgboost.config_context(verbosity=0):
            dtrain = dxgb.DaskDMatrix(client, X, y)
            dxgb.train(client, {{"verbosity": 0}}, dtrain, num_boost_round=2, verbose_eval=False)


    def mark(text):
        sys.stderr.flush()
        print(text, file=sys.stderr, flush=True)


    if __name__ == "__main__":
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({{"x": rng.normal(size=400), "y": rng.normal(size=400)}})
        data = dd.from_pandas(frame, npartitions=4)
        # Room to spare: these workers import xgboost and pandas (about 300 MiB). A worker that
        # crosses the pause threshold (80 %) lets the scheduler send its training task to the
        # other worker, where it waits forever behind the first one.
        client = get_client(n_workers=2, threads_per_worker=1, memory_limit="700MiB")
        with work_stealing_off(client):
            train(client, data[["x"]], data["y"])
        mark("{INSIDE}")
        with xgboost_training(client) as logs:
            train(client, data[["x"]], data["y"])
        print("rank lines in the logs:", len(log_lines(logs.values(), "got rank")))
        mark("{AFTER}")
        with work_stealing_off(client):
            train(client, data[["x"]], data["y"])
        sys.stderr.flush()
        close_client()
    """
)


def test_worker_stderr_redirect_silences_the_rank_line_and_is_undone(tmp_path):
    script = tmp_path / "xgboost_rank_line.py"
    script.write_text(SCRIPT)
    # A local cluster, whatever the shell says: the point is that its workers share our stderr.
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env=env,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, marker, rest = done.stderr.partition(INSIDE)
    assert marker, done.stderr[-2000:]
    inside, marker, after = rest.partition(AFTER)
    assert marker, done.stderr[-2000:]
    assert before.count("got rank") == 2, (
        "XGBoost no longer prints its rank line with verbosity=0: the workaround in lessons 05 "
        f"and 09 may be unnecessary now. stderr was: {before[-1000:]!r}"
    )
    assert "got rank" not in inside, inside[-1000:]
    assert "rank lines in the logs: 2" in done.stdout
    assert after.count("got rank") == 2, f"the workers' stderr was not put back: {after[-1000:]!r}"
