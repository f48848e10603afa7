"""helpers.streaming: whole batches instead of samples (ParquetBatchStream).

decode_batch itself is tested with the rest of the encoding, in test_data.py.
"""

import inspect
import warnings

import numpy as np
import pandas as pd
import pytest

torch = pytest.importorskip("torch")

from torch.utils.data import DataLoader  # noqa: E402

from helpers import data, streaming  # noqa: E402

STATS = {"mean": [1.0] * len(data.NUMERIC_COLUMNS), "std": [2.0] * len(data.NUMERIC_COLUMNS)}


def batches_of(stream, num_workers=0, **loader_options):
    """Every batch of one epoch: a list of (features, labels, ids) tensors."""
    with warnings.catch_warnings():
        # More workers than this machine's cores (a 2-core CI runner) is what some tests want.
        warnings.filterwarnings("ignore", message="This DataLoader will create")
        return list(DataLoader(stream, batch_size=None, num_workers=num_workers,
                               worker_init_fn=streaming.worker_init_fn, **loader_options))


def ids_of(stream, num_workers=0, **loader_options):
    return torch.cat([ids for _, _, ids in batches_of(stream, num_workers, **loader_options)]
                     ).tolist()


@pytest.mark.parametrize("num_workers", [0, 1, 2, 3])
def test_every_sample_exactly_once_in_full_batches(game_shards, num_workers):
    stream = streaming.ParquetBatchStream(game_shards, STATS, batch_size=64, shuffle_buffer=100)
    batches = batches_of(stream, num_workers)
    ids = torch.cat([ids for _, _, ids in batches]).tolist()
    assert sorted(ids) == list(range(2_000))
    # Every batch is full except at most the last one of each reader (worker).
    assert sum(len(y) < 64 for _, y, _ in batches) <= max(1, num_workers)
    assert all(x.shape == (len(y), data.N_FEATURES) == (len(i), data.N_FEATURES)
               for x, y, i in batches)


def test_same_rows_features_and_labels_as_the_per_sample_stream(game_shards):
    per_sample = {sample_id: (x, label) for x, label, sample_id in
                  streaming.ParquetShardStream(game_shards, STATS, shuffle_buffer=0)}
    for x, y, ids in batches_of(streaming.ParquetBatchStream(game_shards, STATS, batch_size=100)):
        for row, sample_id in enumerate(ids.tolist()):
            assert torch.equal(x[row], per_sample[sample_id][0])
            assert int(y[row]) == per_sample[sample_id][1]


def test_without_shuffling_the_order_is_the_per_sample_order(game_shards):
    options = dict(shuffle_buffer=0, shuffle_files=False)
    per_sample = [sample_id for _, _, sample_id in streaming.ParquetShardStream(game_shards, STATS,
                                                                                  **options)]
    assert ids_of(streaming.ParquetBatchStream(game_shards, STATS, batch_size=70, **options)) == \
        per_sample


def test_the_order_depends_only_on_seed_and_epoch(game_shards):
    stream = streaming.ParquetBatchStream(game_shards, STATS, shuffle_buffer=300, seed=2)
    first = ids_of(stream)
    assert ids_of(stream) == first and first != sorted(first)
    stream.set_epoch(1)
    assert ids_of(stream) != first
    stream.set_epoch(0)
    assert ids_of(stream, 1) == first  # one worker: the same reader as the main process


def test_the_buffer_mixes_files(game_shards):
    """Rows of the first batches come from more than one file only with a large buffer."""
    first_id = sorted(next(streaming.read_shard(path))[0][0] for path in game_shards)

    def files_in_first_batches(buffer):
        stream = streaming.ParquetBatchStream(game_shards, STATS, batch_size=50,
                                              shuffle_buffer=buffer)
        ids = torch.cat([i for _, _, i in batches_of(stream)[:6]]).numpy()
        return len(np.unique(np.searchsorted(first_id, ids, side="right")))

    assert files_in_first_batches(0) == 1
    assert files_in_first_batches(1_000) > 1


def test_set_epoch_reaches_persistent_workers_and_spawn(game_shards):
    stream = streaming.ParquetBatchStream(game_shards, STATS, shuffle_buffer=100)
    loader = DataLoader(stream, batch_size=None, num_workers=2, persistent_workers=True)
    orders = []
    for epoch in (0, 1):
        stream.set_epoch(epoch)
        orders.append(torch.cat([ids for _, _, ids in loader]).tolist())
    assert orders[0] != orders[1] and sorted(orders[1]) == list(range(2_000))
    # macOS and Windows start workers with spawn: the class must pickle and import.
    assert ids_of(stream, 2, multiprocessing_context="spawn") == orders[1]


def test_decode_rounds_and_bad_batch_size(game_shards):
    stream = streaming.ParquetBatchStream(game_shards[:1], STATS, decode_rounds=3)
    assert len(ids_of(stream)) == len(pd.read_parquet(game_shards[0]))
    with pytest.raises(ValueError, match="batch_size"):
        streaming.ParquetBatchStream(game_shards, STATS, batch_size=0)


@pytest.mark.skipif("rank" not in inspect.signature(streaming.ParquetShardStream).parameters,
                    reason="ParquetShardStream does not know distributed ranks")
def test_ranks_split_the_files_as_in_the_per_sample_stream(game_shards):
    seen = [ids_of(streaming.ParquetBatchStream(game_shards, STATS, rank=rank, world_size=2), 2)
            for rank in (0, 1)]
    assert not set(seen[0]) & set(seen[1])
    assert sorted(seen[0] + seen[1]) == list(range(2_000))
