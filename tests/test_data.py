"""helpers.data: deterministic generators, parquet cache, bundled digits."""

import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from helpers import data
from tools.course import ROOT


@pytest.fixture(autouse=True)
def tmp_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_game_features_are_deterministic_and_learnable():
    a = data.game_features_frame(5_000, seed=1)
    b = data.game_features_frame(5_000, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert set(a[data.LABEL].unique()) == set(range(data.N_CLASSES))
    assert list(a.select_dtypes("category").columns) == list(data.CATEGORICAL_COLUMNS)
    # A simple model must do much better than chance (the label is learnable) but not perfectly.
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    X, y = a.drop(columns=data.LABEL), a[data.LABEL]
    score = cross_val_score(HistGradientBoostingClassifier(categorical_features="from_dtype"),
                            X, y, cv=3).mean()
    assert 0.6 < score < 0.98


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_labels_are_exactly_the_classes(seed):
    """N_CLASSES follows the cuts of the label: every class occurs, in its share, and no other."""
    labels = data.game_features_frame(2_000, seed=seed)[data.LABEL]
    assert sorted(labels.unique()) == list(range(data.N_CLASSES))
    shares = labels.value_counts(normalize=True).sort_index().cumsum().to_numpy()[:-1]
    assert np.allclose(shares, data.LABEL_QUANTILES, atol=0.01)


def test_the_schema_is_the_generated_frame():
    """CATEGORIES lists each categorical column's categories in the frame's own order, and
    N_FEATURES is the length of an encoded row."""
    frame = data.game_features_frame(50, seed=0)
    assert list(data.CATEGORIES) == list(data.CATEGORICAL_COLUMNS)
    for column, values in data.CATEGORIES.items():
        assert tuple(frame[column].cat.categories) == values
    assert data.N_FEATURES == len(data.NUMERIC_COLUMNS) + sum(map(len, data.CATEGORIES.values()))


def test_importing_data_does_not_import_torch():
    code = "import helpers.data, sys; assert 'torch' not in sys.modules, 'torch was imported'"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


STATS = {"mean": np.linspace(1, 8, len(data.NUMERIC_COLUMNS)),
         "std": np.linspace(2, 3, len(data.NUMERIC_COLUMNS))}


def test_encode_frame_standardises_and_one_hot_encodes():
    frame = data.game_features_frame(300, seed=4)
    features, labels = data.encode_frame(frame, STATS)
    n_numeric = len(data.NUMERIC_COLUMNS)
    assert features.dtype == np.float32 and features.shape == (300, data.N_FEATURES)
    expected = (frame[list(data.NUMERIC_COLUMNS)].to_numpy() - STATS["mean"]) / STATS["std"]
    assert np.allclose(features[:, :n_numeric], expected, rtol=1e-6, atol=1e-6)
    start = n_numeric
    for column, values in data.CATEGORIES.items():
        block = features[:, start:start + len(values)]
        assert np.array_equal(np.asarray(values)[block.argmax(axis=1)], frame[column].astype(str))
        assert (block.sum(axis=1) == 1).all()
        start += len(values)
    assert labels.dtype == np.int64 and np.array_equal(labels, frame[data.LABEL])


def test_encode_frame_does_not_depend_on_the_categories_a_file_holds():
    """A file whose category column holds strings, or a dtype with other categories in another
    order, is encoded with the positions of CATEGORIES; an unknown value is an error."""
    frame = data.game_features_frame(100, seed=5)
    reference, _ = data.encode_frame(frame, STATS)
    as_strings = frame.astype({column: str for column in data.CATEGORIES})
    assert np.array_equal(data.encode_frame(as_strings, STATS)[0], reference)
    reordered = frame.astype({"genre": pd.CategoricalDtype(data.GENRES[::-1])})
    assert np.array_equal(data.encode_frame(reordered, STATS)[0], reference)
    as_strings.loc[3, "region"] = "antarctica"
    with pytest.raises(ValueError, match="region"):
        data.encode_frame(as_strings, STATS)


def test_decode_batch_equals_decode_rows_stacked():
    rng = np.random.default_rng(0)
    numeric = rng.normal(size=(50, len(data.NUMERIC_COLUMNS))).astype("float32")
    codes = np.stack([rng.integers(0, len(values), 50) for values in data.CATEGORIES.values()],
                     axis=1)
    one_by_one = np.stack(list(data.decode_rows(numeric, codes, STATS["mean"], STATS["std"])))
    at_once = data.decode_batch(numeric, codes, STATS["mean"], STATS["std"])
    assert at_once.dtype == np.float32 and np.array_equal(at_once, one_by_one)


def test_write_game_features_partitions_and_cache(tmp_data_dir):
    folder = data.write_game_features(10_000, 4, seed=2)
    assert Path(folder).parent == tmp_data_dir  # local by default: a plain path
    files = [Path(f) for f in data.list_files(folder)]
    assert [f.name for f in files] == [f"part-{i:05d}.parquet" for i in range(4)]
    frame = pd.concat(pd.read_parquet(f) for f in files)
    assert len(frame) == 10_000 and frame.index.is_unique
    stamp = files[0].stat().st_mtime_ns
    assert data.write_game_features(10_000, 4, seed=2) == folder
    assert files[0].stat().st_mtime_ns == stamp, "cache was not reused"
    assert data.local_copy(folder) == Path(folder), "a local location needs no copy"
    # The row ids are a RangeIndex kept as metadata, not a column (read-only when read back).
    import pyarrow.parquet as pq

    assert "__index_level_0__" not in pq.read_schema(files[1]).names
    # Other parameters: the folder is rewritten, without files of the old version left over.
    data.write_game_features(9_000, 3, seed=2, name=Path(folder).name)
    assert len(data.list_files(folder)) == 3


@pytest.fixture
def memory_location(monkeypatch):
    """A remote data location: fsspec's in-memory file system stands in for an object store."""
    import fsspec

    monkeypatch.setenv("COURSE_DATA_URL", "memory://course-data/data")
    yield "memory://course-data/data"
    fsspec.filesystem("memory").rm("/course-data", recursive=True)


def test_a_remote_location_is_written_listed_and_copied(memory_location, tmp_data_dir):
    import fsspec

    folder = data.write_game_features(6_000, 3, seed=1, name="players")
    assert folder == memory_location + "/players" and data.is_remote(folder)
    files = data.list_files(folder)
    # Each file keeps its protocol, so that a worker on another machine can open it.
    assert [f.split("://")[0] for f in files] == ["memory"] * 3
    assert [f.split("course-data/data/players/")[1] for f in files] == [
        f"part-{i:05d}.parquet" for i in range(3)]
    assert not list(tmp_data_dir.glob("**/*.parquet")), "nothing written to the local disk"
    memory = fsspec.filesystem("memory")
    written = memory.info(files[0])["created"]
    assert data.write_game_features(6_000, 3, seed=1, name="players") == folder
    assert memory.info(files[0])["created"] == written, "cache was not reused"

    copy = data.local_copy(folder)
    assert copy.parent == tmp_data_dir / data.COPIES_FOLDER
    assert sorted(p.name for p in copy.glob("part-*.parquet")) == [Path(f).name for f in files]
    pd.testing.assert_frame_equal(pd.read_parquet(copy),
                                  pd.concat(pd.read_parquet(f) for f in files))
    stamp = (copy / "part-00000.parquet").stat().st_mtime_ns
    assert data.local_copy(folder) == copy
    assert (copy / "part-00000.parquet").stat().st_mtime_ns == stamp, "copy made twice"
    data.write_game_features(4_000, 2, seed=1, name="players")  # the location changes...
    assert sorted(p.name for p in data.local_copy(folder).glob("part-*")) == [
        "part-00000.parquet", "part-00001.parquet"]              # ...and so does the copy


def test_listing_an_empty_folder_says_so(tmp_data_dir):
    with pytest.raises(FileNotFoundError, match="No part-\\*.parquet files"):
        data.list_files(data.data_url("nothing_here"))


def test_read_with_dask_dataframe():
    import dask.dataframe as dd

    folder = data.write_game_features(6_000, 3, seed=0)
    frame = dd.read_parquet(folder)
    assert frame.npartitions == 3
    assert len(frame) == 6_000


@pytest.mark.parametrize("rows, parts", [(10, 0), (10, 11)])
def test_bad_partition_counts(rows, parts):
    with pytest.raises(ValueError, match="n_partitions"):
        data.write_game_features(rows, parts)


def test_digits_and_augmentation():
    images, labels = data.digits_images()
    assert images.shape == (1797, 8, 8) and images.dtype == "float32"
    assert 0.0 <= images.min() and images.max() <= 1.0
    bigger, bigger_labels = data.digits_images(augment_copies=2, seed=0)
    assert len(bigger) == 3 * 1797 and (bigger_labels[:1797] == labels).all()
    again, _ = data.digits_images(augment_copies=2, seed=0)
    assert (again == bigger).all()
    with pytest.raises(ValueError):
        data.digits_images(augment_copies=-1)
