"""helpers.streaming: the parquet-shard IterableDataset of lesson 07 and its building blocks;
helpers.streaming_probes: the lesson's instruments."""

import random
import warnings

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader  # noqa: E402

from helpers import data, streaming, streaming_probes  # noqa: E402

STATS = {"mean": [0.0] * len(data.NUMERIC_COLUMNS), "std": [1.0] * len(data.NUMERIC_COLUMNS)}


def ids_of(dataset, num_workers, **loader_options):
    loader = DataLoader(dataset, batch_size=64, num_workers=num_workers,
                        worker_init_fn=streaming.worker_init_fn, **loader_options)
    return torch.cat([ids for _, _, ids in loader]).tolist()


def test_list_shards_and_split(game_shards, tmp_path):
    assert streaming.list_shards(game_shards[0].parent) == game_shards
    assert [f.name for f in game_shards] == [f"part-{i:05d}.parquet" for i in range(5)]
    train, val = streaming.split_files(game_shards, n_validation=2, seed=1)
    assert len(val) == 2 and not set(train) & set(val) and sorted(train + val) == game_shards
    assert streaming.split_files(game_shards, 2, seed=1) == (train, val)
    with pytest.raises(ValueError, match="n_validation"):
        streaming.split_files(game_shards, n_validation=5)
    with pytest.raises(FileNotFoundError):
        streaming.list_shards(tmp_path / "nowhere")


def test_files_for_worker_is_a_partition():
    files = list(range(7))
    shares = [streaming.files_for_worker(files, w, 3) for w in range(3)]
    assert sorted(sum(shares, [])) == files
    assert shares[0] == [0, 3, 6]


def test_shuffle_buffer_is_a_bounded_permutation():
    consumed = []

    def source():
        for i in range(1_000):
            consumed.append(i)
            yield i

    out = []
    for item in streaming.shuffle_buffer(source(), 50, random.Random(0)):
        # When the k-th item comes out, at most k + 50 items have been read from the source.
        assert len(consumed) <= len(out) + 51
        out.append(item)
    assert sorted(out) == list(range(1_000)) and out != list(range(1_000))
    assert list(streaming.shuffle_buffer(iter(range(5)), 0, random.Random(0))) == list(range(5))


def test_read_shard_ids_follow_the_written_index(game_shards):
    frame = pd.read_parquet(game_shards[1])
    ids = np.concatenate([b[0] for b in streaming.read_shard(game_shards[1], batch_rows=64)])
    assert ids.tolist() == frame.index.tolist() and ids[0] > 0


def test_read_shard_with_a_stored_index(tmp_path):
    frame = data.game_features_frame(100, seed=0)
    frame.index = np.arange(1_000, 1_200, 2)  # not a RangeIndex: stored as a column
    path = tmp_path / "part-00000.parquet"
    frame.to_parquet(path)
    ids = np.concatenate([b[0] for b in streaming.read_shard(path, batch_rows=30)])
    assert ids.tolist() == frame.index.tolist()


def test_streaming_decode_matches_vectorised_encode(game_shards):
    frame = pd.read_parquet(game_shards[0])
    stats = {"mean": frame[list(data.NUMERIC_COLUMNS)].mean().tolist(),
             "std": frame[list(data.NUMERIC_COLUMNS)].std().tolist()}
    features, labels = data.encode_frame(frame, stats)
    assert features.shape == (len(frame), data.N_FEATURES)
    assert (features[:, len(data.NUMERIC_COLUMNS):].sum(axis=1) == 3).all()  # three one-hots
    stream = streaming.ParquetShardStream([game_shards[0]], stats, shuffle_buffer=0,
                                          decode_rounds=5)
    samples = list(stream)
    assert np.allclose(np.stack([x.numpy() for x, _, _ in samples]), features, atol=1e-6)
    assert [y for _, y, _ in samples] == labels.tolist()


@pytest.mark.parametrize("num_workers", [0, 1, 2, 3])
def test_every_sample_exactly_once(game_shards, num_workers):
    stream = streaming.ParquetShardStream(game_shards, STATS, shuffle_buffer=100, seed=0)
    with warnings.catch_warnings():
        # More workers than this machine's cores (a 2-core CI runner) is what this test wants.
        warnings.filterwarnings("ignore", message="This DataLoader will create")
        ids = ids_of(stream, num_workers)
    assert sorted(ids) == list(range(2_000))


def test_without_splitting_every_worker_repeats_everything(game_shards):
    """The bug lesson 07 shows: each worker streams every file (ranks are still split)."""
    stream = streaming_probes.UnsplitShardStream(game_shards, STATS)
    ids = ids_of(stream, 2)
    assert len(ids) == 4_000 and len(set(ids)) == 2_000
    halves = [streaming_probes.UnsplitShardStream(game_shards, STATS, rank=rank, world_size=2)
              for rank in (0, 1)]
    assert not set(halves[0].files_for_reader(1, 2)) & set(halves[1].files_for_reader(0, 2))


def test_set_epoch_reaches_persistent_workers(game_shards):
    stream = streaming.ParquetShardStream(game_shards, STATS, shuffle_buffer=100, seed=0)
    loader = DataLoader(stream, batch_size=64, num_workers=2, persistent_workers=True)
    orders = []
    for epoch in (0, 1, 0):
        stream.set_epoch(epoch)
        orders.append(torch.cat([ids for _, _, ids in loader]).tolist())
    assert all(sorted(o) == list(range(2_000)) for o in orders)
    assert orders[0] != orders[1] and orders[0] == orders[2]
    # A fresh, non-persistent loader at the same epoch gives the same order.
    stream.set_epoch(1)
    assert ids_of(stream, 2) == orders[1]


def test_zero_and_one_worker_give_the_same_stream(game_shards):
    stream = streaming.ParquetShardStream(game_shards, STATS, shuffle_buffer=100, seed=4)
    assert ids_of(stream, 0) == ids_of(stream, 1)


def test_works_with_spawned_workers(game_shards):
    """macOS and Windows start workers with spawn: the dataset must pickle and import."""
    stream = streaming.ParquetShardStream(game_shards[:2], STATS, shuffle_buffer=50, seed=0)
    spawned = ids_of(stream, 2, multiprocessing_context="spawn")
    assert spawned == ids_of(stream, 2)


def test_worker_probe_and_threads():
    assert list(DataLoader(streaming_probes.WorkerProbe(), batch_size=None)) == [
        {"worker": None, "num_workers": 0, "torch_threads": torch.get_num_threads()}
    ]
    reports = list(DataLoader(streaming_probes.WorkerProbe(), batch_size=None, num_workers=2,
                              worker_init_fn=streaming.worker_init_fn))
    assert sorted(r["worker"] for r in reports) == [0, 1]
    assert all(r["torch_threads"] == 1 for r in reports)


def test_simulated_decode_cost_runs_every_round():
    """Each round is one step of a linear congruential generator: a loop that is skipped, stops
    early or runs a fixed number of times gives other values."""
    cost = streaming.simulated_decode_cost
    # By hand: 0 rounds -> 0; round 0: 0*a+0 = 0; round 1: 0*a+1 = 1; round 2: 1*a+2.
    assert [cost(rounds) for rounds in (0, 1, 2, 3)] == [0, 0, 1, 1_103_515_247]
    # Every further round changes the result, up to the largest count tried.
    assert len({cost(rounds) for rounds in range(2, 2_000)}) == 1_998


@pytest.mark.parametrize("stream_class, charge_per_piece", [
    (streaming.ParquetShardStream, False), (streaming.ParquetBatchStream, True)])
def test_decode_rounds_are_charged_for_every_sample(game_shards, monkeypatch, stream_class,
                                                    charge_per_piece):
    """``decode_rounds=r`` costs r rounds per sample: per sample, or per piece read."""
    charged = []
    monkeypatch.setattr(streaming, "simulated_decode_cost", charged.append)
    list(stream_class(game_shards[:2], STATS, decode_rounds=7, shuffle_buffer=0))
    n_samples = sum(len(pd.read_parquet(path)) for path in game_shards[:2])
    assert sum(charged) == 7 * n_samples
    assert len(charged) < n_samples if charge_per_piece else len(charged) == n_samples
    charged.clear()
    list(stream_class(game_shards[:1], STATS, shuffle_buffer=0))
    assert charged == [], "no decode cost without decode_rounds"


@pytest.mark.skipif(not hasattr(__import__("psutil").Process(), "num_fds"),
                    reason="this system does not count a process's open files")
def test_open_file_count_follows_opening_and_closing(tmp_path):
    before = streaming_probes.open_file_count()
    assert isinstance(before, int) and before > 0
    path = tmp_path / "a.txt"
    path.write_text("x")
    with open(path) as first, open(path) as second:  # noqa: F841 - held open on purpose
        assert streaming_probes.open_file_count() == before + 2
    assert streaming_probes.open_file_count() == before


def test_open_file_count_is_none_where_the_system_does_not_count(monkeypatch):
    import psutil

    class WindowsProcess:  # psutil.Process on Windows has no num_fds()
        pass

    monkeypatch.setattr(psutil, "Process", WindowsProcess)
    assert streaming_probes.open_file_count() is None


@pytest.mark.parametrize("n_files", [1, 7, 12])
def test_ranks_times_workers_partition_the_files(n_files):
    """Every (rank, DataLoader worker) pair reads its own files: none twice, none missing."""
    files = [f"part-{i:05d}.parquet" for i in range(n_files)]
    for world_size in (1, 2, 3):
        for num_workers in (1, 2, 3):
            shares = [streaming.files_for_reader(files, rank, world_size, worker, num_workers)
                      for rank in range(world_size) for worker in range(num_workers)]
            read = sum(shares, [])
            assert sorted(read) == files, (world_size, num_workers)
            assert len(read) == len(set(read)) == n_files
    with pytest.raises(ValueError, match="rank"):
        streaming.files_for_reader(files, rank=2, world_size=2, worker_id=0, num_workers=1)


def test_without_a_process_group_one_rank_reads_everything(game_shards):
    assert streaming.distributed_rank() == (0, 1)
    stream = streaming.ParquetShardStream(game_shards, STATS)
    assert (stream.rank, stream.world_size) == (0, 1)
    assert sorted(stream.files_for_reader(0, 1)) == sorted(str(f) for f in game_shards)


@pytest.mark.parametrize("num_workers", [0, 2])
def test_every_sample_exactly_once_over_ranks_and_workers(game_shards, num_workers):
    """Two ranks, each with its own DataLoader: together they see every sample once an epoch
    (five files over two ranks: 3 + 2, so the ranks get unequal shares, which DDP would mind)."""
    seen = []
    for rank in (0, 1):
        stream = streaming.ParquetShardStream(game_shards, STATS, shuffle_buffer=100, seed=0,
                                              rank=rank, world_size=2)
        stream.set_epoch(3)
        seen.append(ids_of(stream, num_workers))
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == list(range(2_000))


def test_the_rank_comes_from_the_process_group(game_shards, monkeypatch):
    """Created inside rank 1 of 2 (torch.distributed faked), the stream keeps rank 1's files;
    the same stream refuses to run in another rank, where it would read the wrong files."""
    import torch.distributed as dist

    monkeypatch.setattr(dist, "is_initialized", lambda: True)
    monkeypatch.setattr(dist, "get_world_size", lambda: 2)
    monkeypatch.setattr(dist, "get_rank", lambda: 1)
    stream = streaming.ParquetShardStream(game_shards, STATS, shuffle_buffer=0, seed=0)
    assert (stream.rank, stream.world_size) == (1, 2)
    expected = streaming.files_for_reader(stream.files_in_epoch_order(), 1, 2, 0, 1)
    assert stream.files_for_reader() == expected
    ids = [sample_id for _, _, sample_id in stream]
    rows = sum(len(pd.read_parquet(f)) for f in expected)
    assert len(ids) == len(set(ids)) == rows < 2_000

    monkeypatch.setattr(dist, "get_rank", lambda: 0)
    with pytest.raises(RuntimeError, match="made for rank 1 of 2"):
        iter(stream)
    # Explicit values are trusted: world_size=1 reads every file, whatever the group says.
    everything = streaming.ParquetShardStream(game_shards, STATS, rank=0, world_size=1)
    assert len(everything.files_for_reader()) == len(game_shards)


def test_rank_and_world_size_go_together(game_shards):
    with pytest.raises(ValueError, match="both rank and world_size"):
        streaming.ParquetShardStream(game_shards, STATS, rank=1)
    with pytest.raises(ValueError, match="rank < world_size"):
        streaming.ParquetShardStream(game_shards, STATS, rank=2, world_size=2)


def test_without_the_rank_split_every_rank_repeats_everything(game_shards):
    """The bug the rank split prevents: two ranks that both think they are alone."""
    seen = [ids_of(streaming.ParquetShardStream(game_shards, STATS, rank=0, world_size=1), 0)
            for _ in range(2)]
    assert len(seen[0] + seen[1]) == 4_000 and len(set(seen[0] + seen[1])) == 2_000
