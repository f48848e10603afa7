"""The checks of lesson 07's exercises accept the solution's answers and reject typical mistakes."""

from __future__ import annotations

import pytest

from helpers.exercises.lesson07 import check_exercise_1, check_exercise_2
from helpers.i18n import set_language

# The answers are PyTorch weights (the second Python of `make test-other-python` has no torch).
pytest.importorskip("torch")


def weights(seed: int):
    """The state dict of a tiny model, always the same for the same seed."""
    import torch

    torch.manual_seed(seed)
    return torch.nn.Linear(3, 2).state_dict()


#: Like the lesson's: the same order with 0 and 1 workers, another one with 2.
ORDERS = {0: [4, 1, 3, 2], 1: [4, 1, 3, 2], 2: [4, 3, 1, 2]}


def test_exercise_1_accepts_the_solution():
    assert check_exercise_1({1: weights(0), 0: weights(0)}, False, ORDERS).ok


def test_exercise_1_accepts_models_and_numpy_booleans():
    import numpy as np
    import torch

    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    assert check_exercise_1({1: model, 0: weights(0)}, np.bool_(False), ORDERS).ok
    # a prediction that follows the orders, if they were the same with 2 workers
    assert check_exercise_1({1: weights(0), 0: weights(0)}, True, {**ORDERS, 2: ORDERS[1]}).ok


@pytest.mark.parametrize(("finals", "prediction", "phrase"), [
    ({1: weights(0), 0: weights(1)}, False, "weights with 1 and with 0 workers differ"),
    ({1: weights(0)}, False, "keyed by `1` and `0`"),
    ({1: weights(0), 0: weights(0)}, True, "Compare, in `batch_orders`"),
    ({1: weights(0), 0: weights(0)}, "no", "should be `True` or `False`"),
])
def test_exercise_1_rejects_typical_mistakes(finals, prediction, phrase):
    feedback = check_exercise_1(finals, prediction, ORDERS)
    assert not feedback.ok
    assert phrase in feedback.message


def test_exercise_2_accepts_the_solution():
    assert check_exercise_2({0: 1, 256: 1, 8_000: 3}).ok


@pytest.mark.parametrize(("files_seen", "phrase"), [
    ({0: 2_048, 256: 2_048, 8_000: 2_048}, "counting samples, not files"),
    ({0: 2, 256: 2, 8_000: 2}, "Do you pass `shuffle_buffer=0`"),
    ({0: 1, 256: 1, 8_000: 1}, "new `ParquetShardStream` for each size"),
    ({0: 1, 8_000: 3}, "the three sizes"),
    ({0: 1, 256: 2, 8_000: 3}, "Check your count with that buffer"),
])
def test_exercise_2_rejects_typical_mistakes(files_seen, phrase):
    feedback = check_exercise_2(files_seen)
    assert not feedback.ok
    assert phrase in feedback.message


def test_exercise_2_speaks_spanish():
    set_language("es")
    assert check_exercise_2({0: 1, 256: 1, 8_000: 3}).verdict == "Correcto"
    feedback = check_exercise_2({0: 1, 256: 1, 8_000: 1})
    assert feedback.verdict == "Todavía no"
    assert "¿Creas un `ParquetShardStream` nuevo para cada tamaño" in feedback.message
