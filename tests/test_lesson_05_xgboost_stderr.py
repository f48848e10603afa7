"""Lesson 05's workaround for XGBoost's "got rank" line, checked against the installed XGBoost.

``xgboost.dask`` makes every worker's C++ core write ``[HH:MM:SS] Task [xgboost.dask-N]:tcp://...
got rank N`` to the worker process's stderr, whatever the verbosity. In a notebook the workers of
a LocalCluster share the kernel's stderr, so the line lands in a cell and fails the quiet-output
test. Lessons 05 (and 09) point each worker's file descriptor 2 at a log file instead.

This test runs both cases in a child process, whose stderr we can read whole:

* without the redirect the line must appear even with ``verbosity=0`` (if that ever stops being
  true, XGBoost fixed it upstream and the lessons can drop their workaround);
* with the redirect nothing reaches stderr, and the line is in the workers' log files.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

MARKER = "=== workers' stderr redirected ==="

SCRIPT = textwrap.dedent(
    f"""
    import os
    import sys

    import numpy as np
    import pandas as pd
    import dask.dataframe as dd
    import xgboost
    import xgboost.dask as dxgb

    from helpers.cluster import close_client, get_client, set_work_stealing


    def stderr_to_log_file(dask_worker):  # the same function as in lessons/05_xgboost.md
        path = os.path.join(dask_worker.local_directory, "worker-stderr.log")
        log = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.dup2(log, 2)
        os.close(log)
        return path


    def train(client, X, y):
        with xgboost.config_context(verbosity=0):
            dtrain = dxgb.DaskDMatrix(client, X, y)
            dxgb.train(client, {{"verbosity": 0}}, dtrain, num_boost_round=2, verbose_eval=False)


    if __name__ == "__main__":
        rng = np.random.default_rng(0)
        frame = pd.DataFrame({{"x": rng.normal(size=400), "y": rng.normal(size=400)}})
        data = dd.from_pandas(frame, npartitions=4)
        # Room to spare: these workers import xgboost and pandas (about 300 MiB). A worker that
        # crosses the pause threshold (80 %) lets the scheduler send its training task to the
        # other worker, where it waits forever behind the first one.
        client = get_client(n_workers=2, threads_per_worker=1, memory_limit="700MiB")
        set_work_stealing(client, False)  # as in the lessons: training tasks stay on their workers
        train(client, data[["x"]], data["y"])
        sys.stderr.flush()
        print("{MARKER}", file=sys.stderr, flush=True)
        logs = client.run(stderr_to_log_file)
        train(client, data[["x"]], data["y"])
        ranks = []
        for path in logs.values():
            with open(path) as log:
                ranks += [line for line in log if "got rank" in line]
        print("rank lines in the logs:", len(ranks))
        close_client()
    """
)


def test_worker_stderr_redirect_silences_the_rank_line(tmp_path):
    script = tmp_path / "xgboost_rank_line.py"
    script.write_text(SCRIPT)
    # A local cluster, whatever the shell says: the point is that its workers share our stderr.
    env = {k: v for k, v in os.environ.items() if k != "DASK_SCHEDULER_ADDRESS"}
    done = subprocess.run(
        [sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300,
        env={**env, "PYTHONPATH": str(ROOT)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    before, marker, after = done.stderr.partition(MARKER)
    assert marker, done.stderr[-2000:]
    assert before.count("got rank") == 2, (
        "XGBoost no longer prints its rank line with verbosity=0: the workaround in lessons 05 "
        f"and 09 may be unnecessary now. stderr was: {before[-1000:]!r}"
    )
    assert "got rank" not in after, after[-1000:]
    assert "rank lines in the logs: 2" in done.stdout
