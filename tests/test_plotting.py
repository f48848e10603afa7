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


def test_measurement_bars_draw_each_row_time_left_memory_right():
    rows = [Measurement("a", wall_s=1.0, peak_mib=10), Measurement("b", wall_s=2.5, peak_mib=20)]
    time_ax, memory_ax = plotting.measurement_bars(rows, lang="es")
    assert [bar.get_height() for bar in time_ax.patches] == [row.wall_s for row in rows]
    assert [bar.get_height() for bar in memory_ax.patches] == [row.peak_mib for row in rows]
    assert [tick.get_text() for tick in time_ax.get_xticklabels()] == [row.label for row in rows]
    assert memory_ax.get_ylabel() == plotting.label("memory", "es")


def test_learning_curves_draw_one_line_per_series_over_the_epochs():
    history = {"loss": [1, 0.5, 0.25], "val_loss": [1.1, 0.7, 0.6]}
    ax = plotting.learning_curves(history, lang="en")
    assert [list(line.get_ydata()) for line in ax.lines] == list(history.values())
    epochs = range(1, len(history["loss"]) + 1)
    assert all(list(line.get_xdata()) == list(epochs) for line in ax.lines)


def test_confusion_matrix_plot_writes_each_count_in_its_cell():
    from sklearn.metrics import confusion_matrix

    y_true, y_pred = [0, 1, 1, 2, 2], [0, 1, 2, 2, 2]
    ax = plotting.confusion_matrix_plot(y_true, y_pred, lang="en")
    written = {(text.get_position()[1], text.get_position()[0]): int(text.get_text())
               for text in ax.texts}  # (row, column): count
    matrix = confusion_matrix(y_true, y_pred)
    assert written == {(i, j): matrix[i, j] for i in range(len(matrix))
                       for j in range(len(matrix))}
