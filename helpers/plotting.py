"""The few plots several lessons share, in one consistent style and in Spanish or English.

Every function labels its axes in the lesson's language: the one set with
:func:`helpers.i18n.set_language` (English by default), or ``lang="es"``/``lang="en"`` when given.
Each returns the matplotlib ``Axes`` it drew on (pass ``ax=`` to draw into your own figure).

Nothing is drawn or configured at import time; :func:`use_course_style` is called by each plot.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from helpers.i18n import resolve

COLORS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b")

LABELS = {
    "es": {
        "workers": "Workers (procesos)",
        "speedup": "Aceleración (×)",
        "ideal": "Ideal (lineal)",
        "measured": "Medido",
        "wall": "Tiempo de reloj (s)",
        "memory": "Memoria pico (MiB)",
        "epoch": "Época",
        "loss": "Pérdida",
        "accuracy": "Exactitud",
        "train": "entrenamiento",
        "validation": "validación",
        "true": "Clase real",
        "predicted": "Clase predicha",
        "confusion": "Matriz de confusión",
        "mlogloss": "log-loss multiclase",
        "logloss": "log-loss",
        "error": "error",
    },
    "en": {
        "workers": "Workers (processes)",
        "speedup": "Speed-up (×)",
        "ideal": "Ideal (linear)",
        "measured": "Measured",
        "wall": "Wall time (s)",
        "memory": "Peak memory (MiB)",
        "epoch": "Epoch",
        "loss": "Loss",
        "accuracy": "Accuracy",
        "train": "training",
        "validation": "validation",
        "true": "True class",
        "predicted": "Predicted class",
        "confusion": "Confusion matrix",
        "mlogloss": "multiclass log-loss",
        "logloss": "log-loss",
        "error": "error",
    },
}


def label(key: str, lang: str | None = None) -> str:
    """The axis label ``key`` in ``lang`` (default: the lesson's language).

    Parameters
    ----------
    key : str
        One of the keys of :data:`LABELS` (``"wall"``, ``"memory"``, ``"epoch"``...).
    lang : str, optional
        ``"es"`` or ``"en"``; default: the lesson's language.

    Returns
    -------
    str
        The label.

    Raises
    ------
    KeyError
        When the course has no label ``key``.

    Examples
    --------
    >>> label("wall", "es")
    'Tiempo de reloj (s)'
    >>> label("wall", "en")
    'Wall time (s)'
    """
    return LABELS[resolve(lang)][key]


def metric_name(key: str, lang: str | None = None) -> str:
    """A metric's name for a legend: translated when the course knows it, else as given.

    Parameters
    ----------
    key : str
        The metric's name as a library reports it (``"accuracy"``, ``"mlogloss"``, ``"auc"``).
    lang : str, optional
        ``"es"`` or ``"en"``; default: the lesson's language.

    Returns
    -------
    str
        The course's label for it with a lower-case first letter, or ``key`` unchanged.

    Examples
    --------
    >>> metric_name("accuracy", "es")
    'exactitud'
    >>> metric_name("auc", "es")
    'auc'
    """
    known = LABELS[resolve(lang)].get(key)
    return known[0].lower() + known[1:] if known else key


def use_course_style() -> None:
    """Apply the course's matplotlib style (sizes, grid, colours).

    Examples
    --------
    >>> import matplotlib as mpl
    >>> use_course_style()
    >>> mpl.rcParams["axes.grid"], mpl.rcParams["axes.spines.top"]
    (True, False)
    """
    import matplotlib as mpl

    mpl.rcParams.update(
        {
            "figure.figsize": (6.4, 4.0),
            "figure.dpi": 100,
            "axes.grid": True,
            "grid.alpha": 0.3,
            "axes.spines.top": False,
            "axes.spines.right": False,
            "axes.prop_cycle": mpl.cycler(color=COLORS),
            "font.size": 11,
        }
    )


def _axes(ax):
    import matplotlib.pyplot as plt

    use_course_style()
    if ax is None:
        _, ax = plt.subplots()
    return ax


def speedup_plot(workers: Sequence[int], wall_times: Sequence[float], *, lang: str | None = None,
                 ax=None):
    """Measured speed-up ``wall_times[0] / wall_times[i]`` against the number of workers.

    The first entry is the baseline; the dashed line is ideal linear scaling.

    Parameters
    ----------
    workers : sequence of int
        Numbers of workers, the baseline first.
    wall_times : sequence of float
        Wall time measured with each, in seconds.
    lang : str, optional
        ``"es"`` or ``"en"``; default: the lesson's language.
    ax : matplotlib.axes.Axes, optional
        Where to draw; default: a new figure.

    Returns
    -------
    matplotlib.axes.Axes

    Raises
    ------
    ValueError
        When the two sequences are empty or of different lengths.

    Examples
    --------
    >>> ax = speedup_plot([1, 2, 4], [12.0, 6.5, 4.0], lang="en")
    >>> ax.get_ylabel(), [text.get_text() for text in ax.texts]
    ('Speed-up (×)', ['1.00×', '1.85×', '3.00×'])
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    if len(workers) != len(wall_times) or not workers:
        raise ValueError("workers and wall_times must be non-empty and of the same length.")
    ax = _axes(ax)
    base = wall_times[0]
    speedups = [base / t for t in wall_times]
    ideal = [w / workers[0] for w in workers]
    ax.plot(workers, ideal, "--", color="grey", label=label("ideal", lang))
    ax.plot(workers, speedups, "o-", label=label("measured", lang))
    for w, s in zip(workers, speedups, strict=True):
        ax.annotate(f"{s:.2f}×", (w, s), textcoords="offset points", xytext=(6, -12))
    ax.set_xticks(list(workers))
    ax.set_xlabel(label("workers", lang))
    ax.set_ylabel(label("speedup", lang))
    ax.legend()
    return ax


def measurement_bars(measurements: Sequence, *, lang: str | None = None, axes=None):
    """Side-by-side bars of wall time and peak memory for :class:`helpers.measure.Measurement` rows.

    Parameters
    ----------
    measurements : sequence of helpers.measure.Measurement
        The rows, one bar each (anything with ``label``, ``wall_s`` and ``peak_mib``).
    lang : str, optional
        ``"es"`` or ``"en"``; default: the lesson's language.
    axes : pair of matplotlib.axes.Axes, optional
        Where to draw; default: a new figure with two side by side.

    Returns
    -------
    pair of matplotlib.axes.Axes
        The time axes and the memory axes.

    Examples
    --------
    >>> from types import SimpleNamespace as Row
    >>> time_ax, memory_ax = measurement_bars(
    ...     [Row(label="pandas", wall_s=2.0, peak_mib=300), Row(label="dask", wall_s=1.2,
    ...                                                          peak_mib=120)], lang="es")
    >>> time_ax.get_ylabel(), memory_ax.get_ylabel()
    ('Tiempo de reloj (s)', 'Memoria pico (MiB)')
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import matplotlib.pyplot as plt

    use_course_style()
    if axes is None:
        _, axes = plt.subplots(1, 2, figsize=(10, 3.6))
    names = [m.label for m in measurements]
    for ax, values, key in (
        (axes[0], [m.wall_s for m in measurements], "wall"),
        (axes[1], [m.peak_mib for m in measurements], "memory"),
    ):
        bars = ax.bar(names, values, color=COLORS[: len(names)])
        ax.bar_label(bars, fmt="%.1f" if key == "wall" else "%.0f")
        ax.set_ylabel(label(key, lang))
        ax.tick_params(axis="x", rotation=15)
    plt.tight_layout()
    return axes


def learning_curves(history: Mapping[str, Sequence[float]], *, lang: str | None = None, ax=None):
    """Plot per-epoch curves such as ``{"loss": [...], "val_loss": [...]}``.

    Keys starting with ``val_`` are drawn dashed and labelled as validation curves.

    Parameters
    ----------
    history : mapping of str to sequence of float
        One value per epoch for each curve, by metric name (:func:`metric_name`).
    lang, ax
        As for :func:`speedup_plot`.

    Returns
    -------
    matplotlib.axes.Axes
        One line per curve, labelled for the legend.

    Examples
    --------
    >>> ax = learning_curves({"loss": [0.9, 0.5], "val_loss": [1.0, 0.7]}, lang="en")
    >>> [line.get_label() for line in ax.lines]
    ['loss (training)', 'loss (validation)']
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    ax = _axes(ax)
    for key, values in history.items():
        is_val = key.startswith("val_")
        base = key[4:] if is_val else key
        name = f"{metric_name(base, lang)} ({label('validation' if is_val else 'train', lang)})"
        epochs = range(1, len(values) + 1)
        ax.plot(epochs, values, "--" if is_val else "-", marker="o", markersize=3, label=name)
    ax.set_xlabel(label("epoch", lang))
    ax.legend()
    return ax


def confusion_matrix_plot(y_true, y_pred, *, lang: str | None = None, class_names=None, ax=None):
    """A confusion matrix with counts in each cell (rows: true class, columns: predicted).

    Parameters
    ----------
    y_true, y_pred : array-like
        The true and the predicted class of each sample.
    lang : str, optional
        ``"es"`` or ``"en"``; default: the lesson's language.
    class_names : sequence, optional
        Tick labels, one per class in sorted order; default: ``0, 1, ...``.
    ax : matplotlib.axes.Axes, optional
        As for :func:`speedup_plot`.

    Returns
    -------
    matplotlib.axes.Axes
        The matrix as an image, with its count written in each cell.

    Examples
    --------
    >>> ax = confusion_matrix_plot([0, 0, 1, 1], [0, 1, 1, 1], lang="en",
    ...                            class_names=["cat", "dog"])
    >>> ax.get_title(), [text.get_text() for text in ax.texts]
    ('Confusion matrix', ['1', '1', '0', '2'])
    >>> import matplotlib.pyplot as plt; plt.close("all")
    """
    import numpy as np
    from sklearn.metrics import confusion_matrix

    ax = _axes(ax)
    matrix = confusion_matrix(y_true, y_pred)
    names = class_names if class_names is not None else list(range(len(matrix)))
    ax.imshow(matrix, cmap="Blues")
    ax.grid(False)
    threshold = matrix.max() / 2
    for (i, j), count in np.ndenumerate(matrix):
        ax.text(j, i, str(count), ha="center", va="center",
                color="white" if count > threshold else "black")
    ax.set_xticks(range(len(names)), names)
    ax.set_yticks(range(len(names)), names)
    ax.set_xlabel(label("predicted", lang))
    ax.set_ylabel(label("true", lang))
    ax.set_title(label("confusion", lang))
    return ax
