"""helpers.plotting draws without a display, in both languages."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from helpers import plotting  # noqa: E402
from helpers.measure import Measurement  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("lang, word", [("es", "Aceleración"), ("en", "Speed-up")])
def test_speedup_plot_labels(lang, word):
    ax = plotting.speedup_plot([1, 2], [10.0, 5.5], lang=lang)
    assert word in ax.get_ylabel()
    assert len(ax.lines) == 2


def test_speedup_plot_checks_lengths():
    with pytest.raises(ValueError):
        plotting.speedup_plot([1, 2], [1.0], lang="en")


def test_unknown_language():
    with pytest.raises(ValueError, match="'es' for Spanish, 'en' for English"):
        plotting.label("wall", "fr")


def test_bars_curves_confusion():
    rows = [Measurement("a", wall_s=1.0, peak_mib=10), Measurement("b", wall_s=2.0, peak_mib=20)]
    time_ax, memory_ax = plotting.measurement_bars(rows, lang="es")
    assert "MiB" in memory_ax.get_ylabel()
    ax = plotting.learning_curves({"loss": [1, 0.5], "val_loss": [1.1, 0.7]}, lang="en")
    assert len(ax.lines) == 2
    ax = plotting.confusion_matrix_plot([0, 1, 1, 2], [0, 1, 2, 2], lang="en")
    assert len(ax.texts) == 9
