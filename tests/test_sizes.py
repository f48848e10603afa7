import pytest

from helpers.sizes import current_size, pick


def test_small_is_the_default(monkeypatch):
    monkeypatch.delenv("COURSE_SIZE", raising=False)
    assert current_size() == "small"
    assert pick(small=1, full=2) == 1


def test_full_and_case_and_spaces(monkeypatch):
    monkeypatch.setenv("COURSE_SIZE", " Full ")
    assert current_size() == "full"
    assert pick(small=1, full=2) == 2


def test_empty_value_means_default(monkeypatch):
    monkeypatch.setenv("COURSE_SIZE", "")
    assert current_size() == "small"


@pytest.mark.parametrize("bad", ["medium", "big", "0"])
def test_unknown_size_says_what_to_use(monkeypatch, bad):
    monkeypatch.setenv("COURSE_SIZE", bad)
    with pytest.raises(ValueError, match="small, full"):
        pick(small=1, full=2)
