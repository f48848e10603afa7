"""helpers.workers: work stealing and worker stderr put back as they were, per-process memory,
Optuna quiet in every process."""

from __future__ import annotations

import os

import pytest

from helpers.workers import (
    MemoryGrowth,
    log_lines,
    memory_growth,
    quiet_optuna,
    work_stealing_off,
    worker_stderr_to_log,
    xgboost_training,
)

MIB = 2**20


def _stealing_running(dask_scheduler):
    return "stealing" in dask_scheduler.periodic_callbacks


def _fd2_identity():
    """Run on a worker: which file its descriptor 2 is (device, inode)."""
    info = os.fstat(2)
    return info.st_dev, info.st_ino


def _write_fd2(text):
    os.write(2, text.encode())


def test_work_stealing_off_restores_what_it_found(module_client):
    from helpers.cluster import set_work_stealing

    assert module_client.run_on_scheduler(_stealing_running)
    with work_stealing_off(module_client) as was_on:
        assert was_on is True
        assert not module_client.run_on_scheduler(_stealing_running)
    assert module_client.run_on_scheduler(_stealing_running)

    # Off before the block: still off after it (an external scheduler is left as found).
    set_work_stealing(module_client, False)
    with work_stealing_off(module_client) as was_on:
        assert was_on is False
    assert not module_client.run_on_scheduler(_stealing_running)
    set_work_stealing(module_client, True)


def test_work_stealing_is_restored_after_an_error(module_client):
    with pytest.raises(RuntimeError), work_stealing_off(module_client):
        raise RuntimeError("boom")
    assert module_client.run_on_scheduler(_stealing_running)


def test_worker_stderr_goes_to_log_files_and_comes_back(module_client, tmp_path):
    before = module_client.run(_fd2_identity)
    with worker_stderr_to_log(module_client, tmp_path) as logs:
        assert sorted(logs) == sorted(before)
        assert all(os.path.dirname(path) == str(tmp_path) for path in logs.values())
        assert module_client.run(_fd2_identity) != before
        module_client.run(_write_fd2, "inside the block\n")
    assert module_client.run(_fd2_identity) == before
    module_client.run(_write_fd2, "after the block\n")
    written = "".join(open(path).read() for path in logs.values())
    assert written.count("inside the block") == len(logs) == 2
    assert "after the block" not in written


def test_worker_stderr_is_restored_after_an_error(module_client, tmp_path):
    before = module_client.run(_fd2_identity)
    with pytest.raises(RuntimeError), worker_stderr_to_log(module_client, tmp_path):
        raise RuntimeError("boom")
    assert module_client.run(_fd2_identity) == before


def test_xgboost_training_does_both_and_undoes_both(module_client, tmp_path):
    before = module_client.run(_fd2_identity)
    with xgboost_training(module_client, tmp_path) as logs:
        assert len(logs) == 2
        assert not module_client.run_on_scheduler(_stealing_running)
        assert module_client.run(_fd2_identity) != before
    assert module_client.run_on_scheduler(_stealing_running)
    assert module_client.run(_fd2_identity) == before


def test_an_external_cluster_keeps_its_stderr(module_client, monkeypatch, tmp_path):
    monkeypatch.setenv("DASK_SCHEDULER_ADDRESS", module_client.scheduler.address)
    before = module_client.run(_fd2_identity)
    with worker_stderr_to_log(module_client, tmp_path) as logs:
        assert logs == {}
        assert module_client.run(_fd2_identity) == before


def _hold_memory(mib, seconds=0.4):
    """Run on a worker: keep ``mib`` MiB of touched memory for a while, then free it."""
    import time

    block = bytearray(mib * MIB)
    block[::4096] = b"x" * len(block[::4096])
    time.sleep(seconds)
    del block


def test_memory_growth_sees_each_process_on_its_own(module_client):
    first, second = sorted(module_client.scheduler_info()["workers"])
    with memory_growth(module_client) as growth:
        module_client.run(_hold_memory, 60, workers=[first])
        _hold_memory(30)
    assert set(growth.workers_mib) == {first, second}
    assert growth.workers_mib[first] > 50
    assert growth.workers_mib[second] < 20
    assert 25 < growth.kernel_mib < 60
    assert growth.largest_mib == growth.workers_mib[first]
    assert growth.total_mib == pytest.approx(sum(growth.per_process_mib))


def test_memory_growth_without_a_client_measures_the_kernel():
    with memory_growth() as growth:
        _hold_memory(40, seconds=0.3)
    assert growth.workers_mib == {}
    assert growth.kernel_mib > 30
    assert growth.per_process_mib == [growth.kernel_mib]


def test_memory_growth_numbers():
    growth = MemoryGrowth(kernel_mib=5.0, workers_mib={"tcp://b": 40.0, "tcp://a": 10.0})
    assert growth.per_process_mib == [5.0, 10.0, 40.0]
    assert growth.total_mib == 55.0
    assert growth.largest_mib == 40.0


def test_log_lines_drops_the_time_and_sorts(tmp_path):
    (tmp_path / "a.log").write_text("[10:31:07] Task [xgboost.dask-1]: got rank 1\nnoise\n")
    (tmp_path / "b.log").write_text("[10:31:08] Task [xgboost.dask-0]: got rank 0\n")
    paths = [tmp_path / "a.log", tmp_path / "b.log", tmp_path / "missing.log"]
    assert log_lines(paths, "got rank") == ["Task [xgboost.dask-0]: got rank 0",
                                            "Task [xgboost.dask-1]: got rank 1"]
    assert log_lines(paths, "nothing like this") == []


def _optuna_noise_shown():
    """Run anywhere: which of Optuna's DaskStorage warning, another experimental warning and an
    INFO log line would reach stderr in this process."""
    import logging
    import warnings

    import optuna
    from optuna.exceptions import ExperimentalWarning

    with warnings.catch_warnings(record=True) as caught:
        warnings.warn("DaskStorage is experimental (supported from v3.1.0). The interface can "
                      "change in the future.", ExperimentalWarning, stacklevel=1)
        warnings.warn("SomethingElse is experimental (supported from v9.0.0).", ExperimentalWarning,
                      stacklevel=1)
    return {"warnings": [str(w.message).split()[0] for w in caught],
            "info_logged": optuna.logging.get_logger("optuna").isEnabledFor(logging.INFO)}


def _unpickle_dask_storage_warnings():
    """Run on a worker: the warnings raised while a DaskStorage is unpickled, as for a study."""
    import pickle
    import warnings

    from optuna_integration.dask import DaskStorage

    blob = pickle.dumps(DaskStorage(name="test-quiet-optuna", register=False))
    with warnings.catch_warnings(record=True) as caught:
        pickle.loads(blob)
    return [str(w.message) for w in caught]


def test_quiet_optuna_silences_the_dask_storage_warning_and_info_everywhere(module_client):
    import optuna

    before = optuna.logging.get_verbosity()
    try:
        quiet_optuna(module_client)
        quiet = {"warnings": ["SomethingElse"], "info_logged": False}
        assert _optuna_noise_shown() == quiet
        assert module_client.run_on_scheduler(_optuna_noise_shown) == quiet
        on_workers = module_client.run(_optuna_noise_shown)
        assert len(on_workers) == 2 and all(found == quiet for found in on_workers.values())
        assert all(found == [] for found in
                   module_client.run(_unpickle_dask_storage_warnings).values())

        # A worker that joins later gets it too (the plugin), and calling again is harmless.
        quiet_optuna(module_client)
        module_client.cluster.scale(3)
        module_client.wait_for_workers(3, timeout=60)
        on_workers = module_client.run(_optuna_noise_shown)
        assert len(on_workers) == 3 and all(found == quiet for found in on_workers.values())
    finally:
        module_client.cluster.scale(2)
        _wait_for_exactly(module_client, 2)
        optuna.logging.set_verbosity(before)


def _wait_for_exactly(client, n_workers, timeout_s=30.0):
    import time

    deadline = time.monotonic() + timeout_s
    while len(client.scheduler_info()["workers"]) != n_workers and time.monotonic() < deadline:
        time.sleep(0.1)
