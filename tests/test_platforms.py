"""The pinned set resolves for the machines students own, and Linux gets no CUDA packages.

uv resolves for another platform without downloading wheels (tools/platforms.py). Where the
package index can't be reached, these tests skip and say so.
"""

import pytest

from tools.check_python import problem
from tools.platforms import PLATFORMS, PYTHONS, IndexUnreachable, resolve, torch_cpu


@pytest.mark.parametrize("python", PYTHONS)
@pytest.mark.parametrize("platform", list(PLATFORMS))
def test_pinned_set_resolves(platform, python):
    try:
        resolution = resolve(platform, python)
    except IndexUnreachable as error:
        pytest.skip(f"the package index can't be reached, not checked: {error}")
    assert resolution.packages["dask"] and resolution.packages["keras"]
    if platform.startswith("Linux"):
        assert resolution.cuda_packages == [], (
            f"{platform} would download the GPU stack: {resolution.cuda_packages}"
        )
        assert "torch" not in resolution.packages, "Linux's torch comes from the CPU index"
        tensorflow = "tensorflow" if "aarch64" in platform else "tensorflow-cpu"
        assert tensorflow in resolution.packages
    else:
        assert "torch" in resolution.packages


def test_linux_torch_is_the_cpu_build():
    try:
        resolution = torch_cpu("Linux x86_64", "3.12")
    except IndexUnreachable as error:
        pytest.skip(f"PyTorch's CPU wheel index can't be reached, not checked: {error}")
    assert resolution.packages["torch"].endswith("+cpu")
    assert resolution.cuda_packages == []


@pytest.mark.parametrize("version, fits", [((3, 11, 0), True), ((3, 13, 5), True),
                                           ((3, 14, 0), False), ((3, 10, 9), False)])
def test_python_check(version, fits):
    assert (problem(version, has_venv=True) is None) == fits
    if not fits:
        assert "Install Python 3.11, 3.12 or 3.13" in problem(version, has_venv=True)
