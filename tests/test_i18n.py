"""helpers.i18n and the helpers' text in the lesson's language."""

import pytest

from helpers import i18n
from helpers.measure import Measurement, Results
from helpers.plotting import label, metric_name


def test_default_language_is_english():
    assert i18n.DEFAULT_LANGUAGE == "en"
    assert i18n.resolve(None) == i18n.current_language()


def test_set_language_rejects_unknown_and_keeps_the_old_one():
    i18n.set_language("es")
    with pytest.raises(ValueError, match="'es' for Spanish"):
        i18n.set_language("fr")
    assert i18n.current_language() == "es"


def test_check_prints_the_claim_in_the_lesson_language(capsys):
    i18n.set_language("es")
    i18n.check(True, "los datos caben")
    assert capsys.readouterr().out == "✔ Comprobado: los datos caben\n"
    with pytest.raises(AssertionError, match="No se cumple: los datos no caben"):
        i18n.check(False, "los datos no caben")
    assert capsys.readouterr().out == "", "a failed check prints nothing"


def test_check_uses_truth_of_numpy_values(capsys):
    import numpy as np

    with pytest.raises(AssertionError):
        i18n.check(np.bool_(False), "false")
    i18n.check(np.array([1.0]).all(), "true")
    assert capsys.readouterr().out.startswith("✔ Verified")


def test_helpers_follow_the_language():
    row = Measurement("serial", wall_s=1.5, cpu_s=1.25, peak_mib=300)
    results = Results()
    results.add(row)
    i18n.set_language("es")
    assert str(row) == "serial: 1.50 s de reloj, 1.25 s de CPU, pico de 300 MiB"
    assert list(results.table("wall_s", "processes").columns) == ["tiempo de reloj (s)", "procesos"]
    assert label("speedup") == "Aceleración (×)"
    assert metric_name("loss") == "pérdida"
    i18n.set_language("en")
    assert str(row) == "serial: 1.50 s wall, 1.25 s CPU, peak 300 MiB"
    assert results.table().index.name == "measurement"
    assert label("speedup") == "Speed-up (×)"


def test_helper_errors_follow_the_language(monkeypatch):
    from helpers.cluster import make_spec
    from helpers.sizes import current_size

    i18n.set_language("es")
    with pytest.raises(ValueError, match="necesita al menos un worker"):
        make_spec(n_workers=0)
    monkeypatch.setenv("COURSE_SIZE", "huge")
    with pytest.raises(ValueError, match="no es un tamaño del curso"):
        current_size()


def test_warn_speaks_the_lesson_language_and_points_at_the_caller():
    import warnings

    from helpers.i18n import set_language, warn

    def library_function():
        warn(es="cuidado", en="careful", stacklevel=2)

    set_language("es")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        library_function()
    assert [str(w.message) for w in caught] == ["cuidado"]
    assert caught[0].category is UserWarning and caught[0].filename == __file__
