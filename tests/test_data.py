"""helpers.data: deterministic generators, parquet cache, bundled digits."""

from pathlib import Path

import pandas as pd
import pytest

from helpers import data


@pytest.fixture(autouse=True)
def tmp_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    return tmp_path


def test_game_features_are_deterministic_and_learnable():
    a = data.game_features_frame(5_000, seed=1)
    b = data.game_features_frame(5_000, seed=1)
    pd.testing.assert_frame_equal(a, b)
    assert set(a[data.LABEL].unique()) == {0, 1, 2}
    assert list(a.select_dtypes("category").columns) == list(data.CATEGORICAL_COLUMNS)
    # A simple model must do much better than chance (the label is learnable) but not perfectly.
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import cross_val_score

    X, y = a.drop(columns=data.LABEL), a[data.LABEL]
    score = cross_val_score(HistGradientBoostingClassifier(categorical_features="from_dtype"),
                            X, y, cv=3).mean()
    assert 0.6 < score < 0.98


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
