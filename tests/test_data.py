"""helpers.data: deterministic generators, parquet cache, bundled digits."""

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
    files = sorted(folder.glob("part-*.parquet"))
    assert len(files) == 4
    frame = pd.concat(pd.read_parquet(f) for f in files)
    assert len(frame) == 10_000 and frame.index.is_unique
    stamp = files[0].stat().st_mtime_ns
    assert data.write_game_features(10_000, 4, seed=2) == folder
    assert files[0].stat().st_mtime_ns == stamp, "cache was not reused"


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
