"""Data sets the lessons share: generated (deterministic by seed) or shipped with scikit-learn.

No lesson downloads anything. Generated files are cached under the repository's git-ignored
``data/`` folder (or ``$COURSE_DATA_DIR``) and reused while their parameters are unchanged.

* :func:`game_features_frame` / :func:`write_game_features`: a tabular "game features" set with
  numeric and categorical columns and a 3-class ``success_label``, written as partitioned parquet
  (one file per partition, which also serves as the shards of a streaming data set).
* :func:`digits_images`: scikit-learn's bundled 8x8 digit images, optionally augmented.

Nothing runs at import time.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DATA_ENV_VAR = "COURSE_DATA_DIR"
LABEL = "success_label"
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


def data_dir() -> Path:
    """The folder where generated data are cached (created if needed).

    ``$COURSE_DATA_DIR`` when set, else ``data/`` at the root of the course repository.
    """
    configured = os.environ.get(DATA_ENV_VAR)
    root = Path(configured) if configured else Path(__file__).resolve().parent.parent / "data"
    root.mkdir(parents=True, exist_ok=True)
    return root


def game_features_frame(n_rows: int, seed: int = 0):
    """Return a pandas DataFrame of ``n_rows`` generated players with a 3-class label.

    Numeric behaviour columns, three categorical columns (pandas ``category`` dtype) and
    ``success_label`` (0 = churned, 1 = casual, 2 = engaged), which depends non-linearly on the
    features plus noise, so that a good model reaches roughly 80-90 % accuracy, not 100 %.
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
    label = np.digitize(score, np.quantile(score, [0.4, 0.75]))

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


def _cache_is_valid(folder: Path, params: dict) -> bool:
    meta = folder / "_params.json"
    if not meta.exists():
        return False
    expected = {f"part-{i:05d}.parquet" for i in range(params["n_partitions"])}
    present = {p.name for p in folder.glob("part-*.parquet")}
    return json.loads(meta.read_text()) == params and present == expected


def write_game_features(
    n_rows: int,
    n_partitions: int,
    seed: int = 0,
    name: str | None = None,
) -> Path:
    """Write the game features as ``n_partitions`` parquet files and return their folder.

    Each partition is generated from its own seed (``seed`` + partition number), so a partition
    is the same whatever the number of rows of the others, and the files can be streamed one by
    one. A folder written earlier with the same parameters is reused as it is.
    """
    if n_partitions < 1 or n_partitions > n_rows:
        raise ValueError(
            f"n_partitions={n_partitions!r} must be between 1 and n_rows={n_rows!r}."
        )
    params = {"n_rows": n_rows, "n_partitions": n_partitions, "seed": seed, "version": 1}
    folder = data_dir() / (name or f"game_features_{n_rows}_{n_partitions}_{seed}")
    if _cache_is_valid(folder, params):
        return folder
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    bounds = [round(i * n_rows / n_partitions) for i in range(n_partitions + 1)]
    for part, (start, stop) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        frame = game_features_frame(stop - start, seed=seed * 100_003 + part)
        frame.index = frame.index + start
        frame.to_parquet(folder / f"part-{part:05d}.parquet")
    (folder / "_params.json").write_text(json.dumps(params))
    return folder


def digits_images(augment_copies: int = 0, seed: int = 0):
    """scikit-learn's bundled digits as ``(images, labels)``: float32 in [0, 1], shape (n, 8, 8).

    With ``augment_copies=k`` the set grows (k + 1)-fold: each extra copy shifts every image by
    up to one pixel and adds a little noise, a cheap stand-in for a larger image data set.
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
