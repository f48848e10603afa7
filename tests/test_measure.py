"""helpers.measure: wall/CPU/peak memory over the kernel and its cluster's processes."""

import os
import subprocess
import sys
import time

import numpy as np
import pytest

from helpers.measure import Measurement, ProcessTreeSampler, Results, measure, speedup


def test_wall_and_cpu_of_a_busy_loop():
    with measure("busy") as m:
        end = time.perf_counter() + 0.3
        while time.perf_counter() < end:
            pass
    assert m.wall_s >= 0.3
    # On a loaded machine the loop gets less than a core: only bound the CPU time loosely.
    assert 0.05 <= m.cpu_s <= m.wall_s + 0.5
    assert m.processes >= 1


def test_peak_memory_sees_a_temporary_allocation():
    with measure("alloc", interval=0.01) as m:
        block = np.ones(200 * 2**20 // 8)  # 200 MiB, touched
        time.sleep(0.2)
        del block
    assert m.peak_mib - m.start_mib > 150


def test_child_processes_are_counted():
    code = "import numpy as np, time; a = np.ones(150 * 2**20 // 8); time.sleep(0.6)"
    with measure("child", interval=0.02) as m:
        subprocess.run([sys.executable, "-c", code], check=True)
    assert m.processes >= 2
    assert m.peak_mib - m.start_mib > 120


def test_cluster_workers_are_counted(local_client):
    import dask.array as da

    with measure("cluster", client=local_client) as m:
        da.random.default_rng(0).random((3000, 3000), chunks=1000).sum().compute()
    assert m.processes >= 3  # kernel + 2 workers at least
    assert m.cpu_s > 0


def test_results_table_and_speedup():
    results = Results()
    results.add(Measurement("serial", wall_s=4.0, cpu_s=4.0, peak_mib=100))
    results.add(Measurement("parallel", wall_s=2.0, cpu_s=4.2, peak_mib=150))
    results.add(Measurement("parallel", wall_s=2.5, cpu_s=4.2, peak_mib=150))  # a re-run
    frame = results.to_frame()
    assert list(frame.index) == ["serial", "parallel"]
    assert speedup(results["serial"], results["parallel"]) == pytest.approx(1.6)
    assert frame.loc["parallel", "cpu_utilisation"] == pytest.approx(4.2 / 2.5)
    with pytest.raises(KeyError, match="serial"):
        results["missing"]


def test_measurement_is_recorded_even_when_the_block_fails():
    results = Results()
    error = RuntimeError("boom")
    with pytest.raises(RuntimeError) as raised, measure("fails", results) as m:
        time.sleep(0.05)
        raise error
    assert raised.value is error, "the block's own exception must propagate unchanged"
    assert results["fails"] is m
    assert m.wall_s >= 0.05 and m.peak_mib > 0 and m.processes >= 1


def test_process_tree_sampler_follows_a_child_and_stops():
    """The public sampler tools use (tools.notebook_runner): a child started while it samples
    counts, memory and CPU; once ``with`` ends it samples no more."""
    # The child burns 0.4 s of its own CPU time, however busy the machine is.
    code = ("import numpy as np, time; a = np.ones(150 * 2**20 // 8)\n"
            "end = time.process_time() + 0.4\nwhile time.process_time() < end: pass")
    with ProcessTreeSampler([os.getpid()], interval=0.02) as sampler:
        subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
    assert sampler.process_count >= 2
    assert sampler.peak_rss - sampler.start_rss > 120 * 2**20
    assert sampler.cpu_seconds >= 0.2
    peak = sampler.peak_rss
    block = np.ones(200 * 2**20 // 8)  # more than the child held, after the block
    time.sleep(0.2)
    del block
    assert sampler.peak_rss == peak, "the sampler still samples after the with block"


def test_workers_on_other_machines_measure_themselves(local_client, monkeypatch):
    """Workers that are not on this machine sample themselves: their memory and CPU count."""
    from helpers import measure as measure_module

    def hold_memory():
        import time

        import numpy as np

        block = np.ones(150 * 2**20 // 8)
        time.sleep(0.6)
        return float(block[0])

    # Pretend every address is another machine's: nothing is sampled from here but the kernel.
    monkeypatch.setattr(measure_module, "_is_local", lambda address: False)
    with measure("remote", client=local_client, interval=0.05) as m:
        local_client.submit(hold_memory, pure=False).result()
    assert m.processes >= 4  # kernel (here) + 2 workers + the scheduler (there)
    peaks = m.extra["cluster_peak_mib"]
    with measure("remote idle", client=local_client, interval=0.05) as idle:
        time.sleep(0.6)
    assert peaks - idle.extra["cluster_peak_mib"] > 120, "the worker's allocation was missed"

    def samplers_left():
        from helpers.measure import _REMOTE_SAMPLERS

        return len(_REMOTE_SAMPLERS)

    assert set(local_client.run(samplers_left).values()) == {0}, "samplers left running"
