"""The checks of lesson 06's exercises accept the solution's answer and give the right hint to
typical wrong ones.

The checks read what Keras records about a training run: a ``History`` (``params`` with
``epochs`` and ``steps``, ``epoch``, ``history``), the model's last ``History`` and its optimizer's
``iterations``. Light stand-ins with that same public surface keep TensorFlow out of these tests.
"""

from types import SimpleNamespace

import numpy as np
import pytest

from helpers.exercises.lesson06 import check_exercise_1, check_exercise_2
from helpers.i18n import set_language
from tools.language import reads_as_other_language

EPOCHS, STREAM_STEPS, N_PARTITIONS = 3, 375, 12
#: Batching each partition on its own adds at most one smaller batch per partition.
LOOP_STEPS = STREAM_STEPS + N_PARTITIONS // 2


def history(epochs, steps, val_accuracy=0.70):
    """A stand-in for the keras.callbacks.History that model.fit returns."""
    return SimpleNamespace(params={"verbose": 0, "epochs": epochs, "steps": steps},
                           epoch=list(range(epochs)),
                           history={"val_accuracy": [val_accuracy - 0.01] * (epochs - 1)
                                    + [val_accuracy]})


def trained_model(iterations, last_epochs=1, last_steps=32):
    """A stand-in for a trained keras.Model: its last History and its optimizer's step count."""
    return SimpleNamespace(history=history(last_epochs, last_steps),
                           optimizer=SimpleNamespace(iterations=np.int64(iterations)))


@pytest.fixture
def stream_history():
    return history(EPOCHS, STREAM_STEPS, val_accuracy=0.705)


@pytest.fixture
def naive_curve():
    return [0.60, 0.64, 0.66, 0.67, 0.67, 0.67, 0.66, 0.66, 0.66, 0.65, 0.65, 0.65]


def new_orders(epochs=EPOCHS):
    return [np.random.default_rng([0, epoch]).permutation(N_PARTITIONS) for epoch in range(epochs)]


def test_exercise_1_accepts_the_repaired_loop(stream_history, naive_curve):
    repaired = trained_model(EPOCHS * LOOP_STEPS)
    feedback = check_exercise_1(repaired, new_orders(), 0.703, naive_curve, stream_history)
    assert feedback.ok, feedback


def test_exercise_1_hints(stream_history, naive_curve):
    repaired = trained_model(EPOCHS * LOOP_STEPS)
    storage_order = [list(range(N_PARTITIONS))] * EPOCHS
    feedback = check_exercise_1(repaired, storage_order, 0.69, naive_curve, stream_history)
    assert not feedback.ok and "same partition order on several passes" in feedback.message
    feedback = check_exercise_1(repaired, new_orders(1), 0.69, naive_curve, stream_history)
    assert not feedback.ok and "one order of the partitions per pass" in feedback.message
    missing_one = [order[1:] for order in new_orders()]
    feedback = check_exercise_1(repaired, missing_one, 0.69, naive_curve, stream_history)
    assert not feedback.ok and "each of the 12 partitions once" in feedback.message
    several_epochs = trained_model(EPOCHS * LOOP_STEPS, last_epochs=EPOCHS)
    feedback = check_exercise_1(several_epochs, new_orders(), 0.69, naive_curve, stream_history)
    assert not feedback.ok and "asked for 3 epochs" in feedback.message
    one_fit = trained_model(EPOCHS * STREAM_STEPS, last_steps=STREAM_STEPS)
    feedback = check_exercise_1(one_fit, new_orders(), 0.69, naive_curve, stream_history)
    assert not feedback.ok and "keep one `fit` per partition" in feedback.message
    trained_twice = trained_model(2 * EPOCHS * LOOP_STEPS)
    feedback = check_exercise_1(trained_twice, new_orders(), 0.69, naive_curve, stream_history)
    assert not feedback.ok and "start from a new `make_mlp()`" in feedback.message
    feedback = check_exercise_1(repaired, new_orders(), 0.66, naive_curve, stream_history)
    assert not feedback.ok and "fitted to the last months" in feedback.message
    feedback = check_exercise_1(repaired, new_orders(), 0.671, naive_curve, stream_history)
    assert not feedback.ok and "stays far from the stream" in feedback.message
    untrained = trained_model(0)
    feedback = check_exercise_1(untrained, new_orders(), 0.69, naive_curve, stream_history)
    assert not feedback.ok and "has not been trained yet" in feedback.message


class PyDataset:
    """Stands in for keras.utils.PyDataset: the check looks for it among the class's bases."""


class PartitionBatches(PyDataset):
    def __init__(self, n_batches):
        self.n_batches = n_batches

    def __len__(self):
        return self.n_batches


def test_exercise_2_accepts_a_py_dataset(stream_history, naive_curve):
    batches = PartitionBatches(LOOP_STEPS)
    py_history = history(EPOCHS, LOOP_STEPS, val_accuracy=0.70)
    feedback = check_exercise_2(batches, py_history, naive_curve, stream_history)
    assert feedback.ok, feedback


def test_exercise_2_hints(stream_history, naive_curve):
    batches = PartitionBatches(LOOP_STEPS)
    py_history = history(EPOCHS, LOOP_STEPS, val_accuracy=0.70)
    per_partition = PartitionBatches(N_PARTITIONS)
    feedback = check_exercise_2(per_partition, history(EPOCHS, N_PARTITIONS), naive_curve,
                                stream_history)
    assert not feedback.ok and "should count the batches" in feedback.message
    plain = SimpleNamespace(__len__=lambda: LOOP_STEPS)
    feedback = check_exercise_2(plain, py_history, naive_curve, stream_history)
    assert not feedback.ok and "inherits from `keras.utils.PyDataset`" in feedback.message
    feedback = check_exercise_2(batches, history(1, LOOP_STEPS), naive_curve, stream_history)
    assert not feedback.ok and "single `fit` of `EPOCHS` (3) epochs" in feedback.message
    feedback = check_exercise_2(batches, history(EPOCHS, STREAM_STEPS), naive_curve,
                                stream_history)
    assert not feedback.ok and "does not come from training on `batches`" in feedback.message
    fitted_to_the_end = history(EPOCHS, LOOP_STEPS, val_accuracy=0.655)
    feedback = check_exercise_2(batches, fitted_to_the_end, naive_curve, stream_history)
    assert not feedback.ok and "fitted to the last partitions" in feedback.message
    feedback = check_exercise_2(batches, [0.70], naive_curve, stream_history)
    assert not feedback.ok and "what `model.fit(...)` returns" in feedback.message


def test_hints_are_in_spanish_in_the_spanish_notebook(stream_history, naive_curve):
    set_language("es")
    repaired = trained_model(EPOCHS * LOOP_STEPS)
    storage_order = [list(range(N_PARTITIONS))] * EPOCHS
    for feedback in (check_exercise_1(repaired, storage_order, 0.69, naive_curve, stream_history),
                     check_exercise_1(repaired, new_orders(), 0.703, naive_curve,
                                      stream_history)):
        assert str(feedback).startswith(("✘ Todavía no:", "✔ Correcto:"))
        assert not reads_as_other_language(feedback.message, "es"), feedback.message
