"""Data sets the lessons share: generated (deterministic by seed) or shipped with scikit-learn.

No lesson downloads anything. Generated files live at **one location** that the notebook and
every worker of the cluster can reach, read and written through fsspec:

* by default the repository's git-ignored ``data/`` folder (or ``$COURSE_DATA_DIR``): a laptop,
  Binder, a local cluster;
* on a real cluster, ``$COURSE_DATA_URL``: an object store (``s3://bucket/prefix``, ``gs://...``,
  ``abfs://...``) or a folder every machine mounts. Credentials and endpoints come from the usual
  environment variables (``AWS_ACCESS_KEY_ID``, ``AWS_ENDPOINT_URL``...) or fsspec's config,
  never from a notebook.

A worker reads a path as the *worker's* machine sees it, so a notebook-local folder is not
enough on a cluster of other machines: lessons pass workers :func:`data_url` locations, and
programs that read files in the notebook's own process (pandas, a local Spark, a PyTorch
``DataLoader``) read :func:`local_copy`, which is the same folder when the location is local.

* :func:`write_partitions`: any table written as one parquet file per partition, at the data
  location, once (reused while its parameters are unchanged).
* :func:`game_features_frame` / :func:`write_game_features`: a tabular "game features" set with
  numeric and categorical columns and a 3-class ``success_label``, written as partitioned parquet
  (one file per partition, which also serves as the shards of a streaming data set).
* Its schema, the one copy every lesson and helper uses: :data:`NUMERIC_COLUMNS`,
  :data:`CATEGORIES` (each categorical column's categories, in one-hot order), :data:`LABEL` and
  :data:`N_CLASSES`; and its encoding for neural networks (standardised numbers, then one-hot
  categories: :data:`N_FEATURES` float32 values): :func:`encode_frame` for a DataFrame,
  :func:`decode_batch` for arrays of many rows, :func:`decode_rows` one row at a time. NumPy and
  pandas only: no deep-learning framework is imported.
* :func:`digits_images`: scikit-learn's bundled 8x8 digit images, optionally augmented.

Nothing runs at import time.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd

DATA_ENV_VAR = "COURSE_DATA_DIR"
DATA_URL_ENV_VAR = "COURSE_DATA_URL"
#: Folder of :func:`local_data_dir` that holds local copies of a remote location's folders.
COPIES_FOLDER = "_copies"
LABEL = "success_label"
#: Quantiles of the players' hidden engagement score that cut it into the classes of
#: :data:`LABEL`: under the first, churned (0); up to the second, casual (1); above, engaged (2).
LABEL_QUANTILES = (0.4, 0.75)
#: Number of classes of :data:`LABEL`: one more than the cuts.
N_CLASSES = len(LABEL_QUANTILES) + 1
PLATFORMS = ("android", "ios", "pc", "console")
REGIONS = ("europe", "north_america", "latin_america", "asia")
GENRES = ("puzzle", "action", "strategy", "sports", "casual")
NUMERIC_COLUMNS = (
    "session_minutes",
    "levels_completed",
    "purchases",
    "friends",
    "days_since_install",
    "ad_clicks",
    "avg_fps",
    "crash_count",
)
CATEGORICAL_COLUMNS = ("platform", "region", "genre")
#: The categories of each categorical column, in the order of their one-hot positions.
CATEGORIES = dict(zip(CATEGORICAL_COLUMNS, (PLATFORMS, REGIONS, GENRES), strict=True))
#: Length of an encoded feature vector: the numeric columns, then one one-hot block per category.
N_FEATURES = len(NUMERIC_COLUMNS) + sum(len(values) for values in CATEGORIES.values())


def local_data_dir() -> Path:
    """The notebook machine's data folder (created if needed).

    ``$COURSE_DATA_DIR`` when set, else ``data/`` at the root of the course repository. It is
    the data location unless ``$COURSE_DATA_URL`` names another one, and it holds the local
    copies :func:`local_copy` makes of a remote location.

    Returns
    -------
    pathlib.Path
        The folder, which exists.

    Examples
    --------
    >>> local_data_dir().is_dir()
    True
    """
    configured = os.environ.get(DATA_ENV_VAR)
    root = Path(configured) if configured else Path(__file__).resolve().parent.parent / "data"
    root.mkdir(parents=True, exist_ok=True)
    return root


def data_url(name: str = "") -> str:
    """The data location (``$COURSE_DATA_URL``, else :func:`local_data_dir`), or ``name`` in it.

    Parameters
    ----------
    name : str
        A folder or file inside the location, e.g. ``"lesson04_points"``.

    Returns
    -------
    str
        A URL such as ``"s3://course/data/lesson04_points"``, or a plain local path. Dask, pandas,
        pyarrow and fsspec all accept either.

    Examples
    --------
    >>> import os
    >>> os.environ["COURSE_DATA_URL"] = "s3://course-data/data/"
    >>> data_url("lesson04_points")
    's3://course-data/data/lesson04_points'
    >>> del os.environ["COURSE_DATA_URL"]
    """
    root = os.environ.get(DATA_URL_ENV_VAR, "").strip() or str(local_data_dir())
    return posixpath.join(root.rstrip("/"), name) if name else root.rstrip("/")


def is_remote(url: str) -> bool:
    """Whether ``url`` lives outside this machine's file system (``s3://``, ``gs://``...).

    Parameters
    ----------
    url : str
        A URL or a plain path.

    Returns
    -------
    bool
        ``False`` for a plain path or a ``file://`` URL.

    Examples
    --------
    >>> is_remote("s3://course-data/data"), is_remote("/home/me/data"), is_remote("file:///tmp")
    (True, False, False)
    """
    from fsspec.utils import get_protocol

    return get_protocol(str(url)) not in ("file", "local")


def _filesystem(url: str):
    """``(filesystem, path without protocol)`` for ``url``; a local folder is created.

    The listings an object-store filesystem cached are dropped: workers or another kernel may
    have written there since this process last looked.
    """
    from fsspec.core import url_to_fs

    fs, path = url_to_fs(str(url))
    if is_remote(url):
        fs.invalidate_cache(path)
    else:
        fs.makedirs(path, exist_ok=True)
    return fs, path


def list_files(folder: str, pattern: str = "part-*.parquet") -> list[str]:
    """The files in ``folder`` (a location from :func:`data_url`) matching ``pattern``, sorted.

    Remote files keep their protocol (``s3://...``), so a worker can open each one.

    Parameters
    ----------
    folder : str
        A folder of the data location, e.g. ``data_url("lesson05_features")``.
    pattern : str
        A glob pattern for the files' names.

    Returns
    -------
    list of str
        The matching files, sorted.

    Raises
    ------
    FileNotFoundError
        When no file matches.

    Examples
    --------
    >>> list_files(write_game_features(100, 2, name="doctest_list_files"))  # doctest: +SKIP
    ['.../data/doctest_list_files/part-00000.parquet', '.../part-00001.parquet']
    """
    fs, path = _filesystem(folder)
    found = sorted(fs.glob(posixpath.join(path, pattern)))
    if not found:
        raise FileNotFoundError(f"No {pattern} files in {folder}.")
    return [fs.unstrip_protocol(f) if is_remote(folder) else f for f in found]


def local_copy(folder: str) -> Path:
    """``folder`` on this machine's disk: itself when the location is local, else a copy.

    Programs that read files in the notebook's own process (pandas, DuckDB, a local Spark, a
    PyTorch ``DataLoader``) read this; a folder of a remote location is downloaded once into
    ``<local_data_dir>/_copies/`` and downloaded again only when its files change (names or
    sizes).

    Parameters
    ----------
    folder : str
        A folder of the data location (local or remote).

    Returns
    -------
    pathlib.Path
        A folder on this machine's disk with the same files.

    Examples
    --------
    >>> local_copy("/home/me/course/data/lesson07_shards")
    PosixPath('/home/me/course/data/lesson07_shards')
    """
    if not is_remote(folder):
        return Path(folder)
    fs, path = _filesystem(folder)
    # Name -> size and version (an ETag or a modification time): a rewrite is noticed.
    listing = {posixpath.basename(name): [info.get("size"), str(info.get("ETag") or
                                                             info.get("LastModified") or
                                                             info.get("mtime") or "")]
               for name, info in fs.find(path, detail=True, maxdepth=1).items()}
    target = local_data_dir() / COPIES_FOLDER / posixpath.basename(path.rstrip("/"))
    manifest = target / "_manifest.json"
    if manifest.exists() and json.loads(manifest.read_text()) == listing:
        return target
    target.mkdir(parents=True, exist_ok=True)
    for old in target.iterdir():
        old.unlink()
    for name in listing:
        fs.get(posixpath.join(path, name), str(target / name))
    manifest.write_text(json.dumps(listing))
    return target


def game_features_frame(n_rows: int, seed: int = 0):
    """Return a pandas DataFrame of ``n_rows`` generated players with a 3-class label.

    Numeric behaviour columns, three categorical columns (pandas ``category`` dtype) and
    ``success_label`` (0 = churned, 1 = casual, 2 = engaged), which depends non-linearly on the
    features plus noise, so that a good model reaches roughly 80-90 % accuracy, not 100 %. The
    classes cut a hidden score at its :data:`LABEL_QUANTILES`.

    Parameters
    ----------
    n_rows : int
        Number of players (rows).
    seed : int
        The random seed: the same seed gives the same frame.

    Returns
    -------
    pandas.DataFrame
        The :data:`NUMERIC_COLUMNS`, the :data:`CATEGORICAL_COLUMNS` and :data:`LABEL`, with a
        ``RangeIndex``.

    Raises
    ------
    ValueError
        When ``n_rows`` is less than 1.

    Examples
    --------
    >>> frame = game_features_frame(1_000, seed=0)
    >>> frame.shape, sorted(frame[LABEL].unique().tolist())
    ((1000, 12), [0, 1, 2])
    """
    import numpy as np
    import pandas as pd

    if n_rows < 1:
        raise ValueError(f"n_rows={n_rows!r}: ask for at least one row.")
    rng = np.random.default_rng(seed)
    platform = rng.choice(len(PLATFORMS), size=n_rows, p=[0.45, 0.3, 0.15, 0.1])
    region = rng.choice(len(REGIONS), size=n_rows)
    genre = rng.choice(len(GENRES), size=n_rows)
    session = rng.gamma(2.0, 15.0, n_rows)
    levels = rng.poisson(5 + session / 6)
    friends = rng.poisson(3, n_rows)
    days = rng.integers(1, 365, n_rows)
    ad_clicks = rng.poisson(1.5, n_rows)
    fps = np.clip(rng.normal(55 - 12 * (platform == 0), 8, n_rows), 10, 120)
    crashes = rng.poisson(np.where(fps < 40, 2.0, 0.3))
    purchases = rng.poisson(0.2 + 0.02 * session + 0.3 * (platform == 1))

    genre_effect = np.array([0.3, -0.2, 0.4, 0.0, -0.4])[genre]
    score = (
        0.045 * session
        + 0.12 * np.log1p(levels) * 3
        + 0.55 * purchases
        + 0.18 * friends
        - 0.004 * days
        - 0.45 * crashes
        + 0.02 * (fps - 50)
        - 0.25 * ad_clicks
        + 0.6 * np.sin(session / 10)
        + genre_effect
        + rng.logistic(0, 0.45, n_rows)
    )
    label = np.digitize(score, np.quantile(score, LABEL_QUANTILES))

    frame = pd.DataFrame(
        {
            "session_minutes": session.astype("float32"),
            "levels_completed": levels.astype("int32"),
            "purchases": purchases.astype("int32"),
            "friends": friends.astype("int32"),
            "days_since_install": days.astype("int32"),
            "ad_clicks": ad_clicks.astype("int32"),
            "avg_fps": fps.astype("float32"),
            "crash_count": crashes.astype("int32"),
            "platform": pd.Categorical.from_codes(platform, PLATFORMS),
            "region": pd.Categorical.from_codes(region, REGIONS),
            "genre": pd.Categorical.from_codes(genre, GENRES),
            LABEL: label.astype("int8"),
        }
    )
    return frame


def frame_arrays(frame):
    """The raw NumPy arrays of a game-features DataFrame: ``(numeric, codes, labels)``.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with the columns of :func:`game_features_frame`. The categorical columns may hold
        strings or any ``category`` dtype: their codes always follow :data:`CATEGORIES`.

    Returns
    -------
    numeric : numpy.ndarray
        ``(rows, len(NUMERIC_COLUMNS))`` float32 values, not yet standardised.
    codes : numpy.ndarray
        ``(rows, len(CATEGORICAL_COLUMNS))`` int64: each value's position in its column's
        :data:`CATEGORIES`.
    labels : numpy.ndarray
        ``(rows,)`` int64 classes.

    Raises
    ------
    ValueError
        When a categorical value is missing or not one of its column's :data:`CATEGORIES` (it
        would have no one-hot position).

    Examples
    --------
    >>> import pandas as pd
    >>> frame = game_features_frame(2, seed=0)
    >>> frame["genre"] = pd.Series(["casual", "puzzle"])
    >>> numeric, codes, labels = frame_arrays(frame)
    >>> numeric.shape, codes[:, 2].tolist(), labels.dtype.name
    ((2, 8), [4, 0], 'int64')
    """
    import numpy as np
    import pandas as pd

    numeric = frame[list(NUMERIC_COLUMNS)].to_numpy(dtype="float32")
    codes = np.stack(
        [pd.Categorical(frame[column], categories=values).codes
         for column, values in CATEGORIES.items()],
        axis=1,
    ).astype("int64")
    unknown = [column for column, column_codes in zip(CATEGORIES, codes.T, strict=True)
               if (column_codes < 0).any()]
    if unknown:
        raise ValueError(f"Values missing or outside CATEGORIES in column(s) {unknown}: every "
                         "categorical value must be one of helpers.data.CATEGORIES.")
    return numeric, codes, frame[LABEL].to_numpy(dtype="int64")


def _one_hot_offsets():
    """Position of each categorical column's first one-hot value in an encoded vector."""
    import numpy as np

    sizes = [len(NUMERIC_COLUMNS)] + [len(values) for values in CATEGORIES.values()]
    return np.cumsum(sizes)[:-1]


def decode_batch(numeric, codes, mean, std):
    """Encode many rows at once (vectorised): standardised numbers, then one-hot categories.

    A few NumPy operations for the whole piece, instead of a Python loop with one small array
    per row (:func:`decode_rows`, which gives the same vectors). The arithmetic is float32.

    Parameters
    ----------
    numeric : array_like
        ``(rows, len(NUMERIC_COLUMNS))`` numbers.
    codes : array_like
        ``(rows, len(CATEGORICAL_COLUMNS))`` integer category codes (positions in
        :data:`CATEGORIES`), as :func:`frame_arrays` gives them.
    mean, std : array_like
        ``len(NUMERIC_COLUMNS)`` values each, that standardise the numeric columns.

    Returns
    -------
    numpy.ndarray
        ``(rows, N_FEATURES)`` float32.

    Examples
    --------
    >>> import numpy as np
    >>> x = decode_batch(np.ones((2, 8)), np.zeros((2, 3), dtype=int), [0.0] * 8, [2.0] * 8)
    >>> x.shape, x.dtype.name, float(x[0, 0]), float(x[0].sum())
    ((2, 21), 'float32', 0.5, 7.0)
    """
    import numpy as np

    numeric = np.asarray(numeric, dtype="float32")
    mean = np.asarray(mean, dtype="float32")
    std = np.asarray(std, dtype="float32")
    features = np.zeros((len(numeric), N_FEATURES), dtype="float32")
    features[:, : len(NUMERIC_COLUMNS)] = (numeric - mean) / std
    features[np.arange(len(numeric))[:, None], _one_hot_offsets() + np.asarray(codes)] = 1.0
    return features


def decode_rows(numeric, codes, mean, std):
    """Encode rows one at a time: the per-sample "decode" step of a streaming data set.

    Yields, for each row, the same float32 vector as the row of :func:`decode_batch`, made on its
    own (a small array per row, in a Python loop), as a dataset that decodes sample by sample
    does.

    Parameters
    ----------
    numeric, codes, mean, std : array_like
        As for :func:`decode_batch`.

    Yields
    ------
    numpy.ndarray
        One ``(N_FEATURES,)`` float32 vector per row: standardised numbers, then one-hot
        categories.

    Examples
    --------
    >>> import numpy as np
    >>> rows = decode_rows(np.ones((2, 8)), np.array([[0, 0, 0], [1, 2, 3]]), [0.0] * 8, [2.0] * 8)
    >>> [np.flatnonzero(x[8:]).tolist() for x in rows]
    [[0, 4, 8], [1, 6, 11]]
    """
    import numpy as np

    offsets = _one_hot_offsets()
    numeric = np.asarray(numeric, dtype="float32")
    mean = np.asarray(mean, dtype="float32")
    std = np.asarray(std, dtype="float32")
    n_numeric = len(NUMERIC_COLUMNS)
    for row in range(len(numeric)):
        x = np.zeros(N_FEATURES, dtype="float32")
        x[:n_numeric] = (numeric[row] - mean) / std
        x[offsets + codes[row]] = 1.0
        yield x


def encode_frame(frame, stats: dict):
    """Encode a whole game-features DataFrame at once: ``(features, labels)`` NumPy arrays.

    :func:`frame_arrays`, then :func:`decode_batch`: the same numbers a streaming data set
    decodes from the same rows, for data that already sit in memory.

    Parameters
    ----------
    frame : pandas.DataFrame
        Rows with the columns of :func:`game_features_frame`.
    stats : dict
        ``{"mean": ..., "std": ...}``: one value per numeric column, in the order of
        :data:`NUMERIC_COLUMNS` (lists, arrays or pandas Series), computed once over the training
        data.

    Returns
    -------
    features : numpy.ndarray
        ``(rows, N_FEATURES)`` float32: standardised numbers, then one-hot categories.
    labels : numpy.ndarray
        ``(rows,)`` int64 classes.

    Raises
    ------
    ValueError
        When a categorical value is not one of :data:`CATEGORIES` (see :func:`frame_arrays`).

    Examples
    --------
    >>> frame = game_features_frame(5, seed=0)
    >>> stats = {"mean": [0.0] * len(NUMERIC_COLUMNS), "std": [1.0] * len(NUMERIC_COLUMNS)}
    >>> features, labels = encode_frame(frame, stats)
    >>> features.shape, features[:, len(NUMERIC_COLUMNS):].sum(axis=1).tolist()
    ((5, 21), [3.0, 3.0, 3.0, 3.0, 3.0])
    """
    numeric, codes, labels = frame_arrays(frame)
    return decode_batch(numeric, codes, stats["mean"], stats["std"]), labels


def _already_written(fs, folder: str, n_partitions: int, params: dict) -> bool:
    meta = posixpath.join(folder, "_params.json")
    if not fs.exists(meta):
        return False
    expected = {f"part-{i:05d}.parquet" for i in range(n_partitions)}
    present = {posixpath.basename(p) for p in fs.glob(posixpath.join(folder, "part-*.parquet"))}
    return json.loads(fs.cat_file(meta)) == params and present == expected


def write_partitions(
    name: str,
    n_partitions: int,
    make_partition: Callable[[int], pd.DataFrame],
    params: dict,
    *,
    index: bool | None = None,
) -> str:
    """Write ``make_partition(i)`` as ``part-{i:05d}.parquet`` for each partition; return the
    folder's location.

    The folder is ``name`` in :func:`data_url`: the local ``data/`` folder, or the shared location
    of a real cluster. ``params`` (anything JSON can write) is stored next to the files, and a
    folder written earlier with the same ``params`` and number of partitions is reused as it is:
    ``make_partition`` is not even called.

    Parameters
    ----------
    name : str
        The folder's name inside the data location.
    n_partitions : int
        How many files to write.
    make_partition : callable
        ``make_partition(i)`` returns partition ``i`` as a pandas DataFrame.
    params : dict
        What the data depend on (sizes, seeds, a version number).
    index : bool, optional
        Whether to store each DataFrame's index, as for ``DataFrame.to_parquet``: ``None`` keeps a
        ``RangeIndex`` as metadata only (no column), ``False`` drops it.

    Returns
    -------
    str
        The folder's location, for ``dd.read_parquet``, :func:`list_files` or :func:`local_copy`.
    """
    folder = data_url(name)
    fs, path = _filesystem(folder)
    params = {**params, "n_partitions": n_partitions}
    if _already_written(fs, path, n_partitions, params):
        return folder
    fs.makedirs(path, exist_ok=True)
    old = fs.glob(posixpath.join(path, "*"))
    if old:
        fs.rm(old, recursive=True)
    for part in range(n_partitions):
        with fs.open(posixpath.join(path, f"part-{part:05d}.parquet"), "wb") as out:
            make_partition(part).to_parquet(out, index=index)
    fs.pipe_file(posixpath.join(path, "_params.json"), json.dumps(params).encode())
    return folder


def write_game_features(
    n_rows: int,
    n_partitions: int,
    seed: int = 0,
    name: str | None = None,
) -> str:
    """Write the game features as ``n_partitions`` parquet files; return their folder's location.

    The folder is ``name`` (default: one named after the parameters) in :func:`data_url`. Each
    partition is generated from its own seed (``seed`` + partition number), so a partition is
    the same whatever the number of rows of the others, and the files can be streamed one by
    one. A folder written earlier with the same parameters is reused as it is
    (:func:`write_partitions`).

    Parameters
    ----------
    n_rows : int
        Players in all the files together.
    n_partitions : int
        Number of files, between 1 and ``n_rows``; their sizes differ by one row at most.
    seed : int
        The random seed of the first partition.
    name : str, optional
        The folder's name in the data location.

    Returns
    -------
    str
        The folder's location. The files' pandas index is the players' global row number.

    Raises
    ------
    ValueError
        When ``n_partitions`` is not between 1 and ``n_rows``.

    Examples
    --------
    >>> folder = write_game_features(10_000, 4, seed=0)  # doctest: +SKIP
    >>> len(list_files(folder))  # doctest: +SKIP
    4
    """
    if n_partitions < 1 or n_partitions > n_rows:
        raise ValueError(
            f"n_partitions={n_partitions!r} must be between 1 and n_rows={n_rows!r}."
        )
    bounds = [round(i * n_rows / n_partitions) for i in range(n_partitions + 1)]

    def partition(part: int):
        frame = game_features_frame(bounds[part + 1] - bounds[part], seed=seed * 100_003 + part)
        frame.index = frame.index + bounds[part]
        return frame

    return write_partitions(name or f"game_features_{n_rows}_{n_partitions}_{seed}",
                            n_partitions, partition,
                            {"n_rows": n_rows, "seed": seed, "version": 1})


def digits_images(augment_copies: int = 0, seed: int = 0):
    """scikit-learn's bundled digits as ``(images, labels)``: float32 in [0, 1], shape (n, 8, 8).

    With ``augment_copies=k`` the set grows (k + 1)-fold: each extra copy shifts every image by
    up to one pixel and adds a little noise, a cheap stand-in for a larger image data set.

    Parameters
    ----------
    augment_copies : int
        Shifted, noisy copies to add of every image (0 or more).
    seed : int
        The random seed of the copies.

    Returns
    -------
    images : numpy.ndarray
        ``(n, 8, 8)`` float32 in [0, 1]: the originals first, then each copy in turn.
    labels : numpy.ndarray
        ``(n,)`` int64 digits.

    Raises
    ------
    ValueError
        When ``augment_copies`` is negative.

    Examples
    --------
    >>> images, labels = digits_images(augment_copies=1)
    >>> images.shape, images.dtype.name, labels[:3].tolist()
    ((3594, 8, 8), 'float32', [0, 1, 2])
    """
    import numpy as np
    from sklearn.datasets import load_digits

    if augment_copies < 0:
        raise ValueError(f"augment_copies={augment_copies!r} must be 0 or more.")
    digits = load_digits()
    images = (digits.images / 16.0).astype("float32")
    labels = digits.target.astype("int64")
    rng = np.random.default_rng(seed)
    all_images, all_labels = [images], [labels]
    for _ in range(augment_copies):
        shifted = np.empty_like(images)
        shifts = rng.integers(-1, 2, size=(len(images), 2))
        for i, (dy, dx) in enumerate(shifts):
            shifted[i] = np.roll(images[i], (dy, dx), axis=(0, 1))
        noisy = np.clip(shifted + rng.normal(0, 0.05, images.shape), 0, 1).astype("float32")
        all_images.append(noisy)
        all_labels.append(labels)
    return np.concatenate(all_images), np.concatenate(all_labels)
