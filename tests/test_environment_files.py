"""environment.yml, Binder and pip install the same pinned packages; Binder is set up small."""

import re

from tools.course import ROOT


def _pins(lines):
    pins = {}
    for line in lines:
        line = line.split("#")[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement, _, marker = line.partition(";")
        name, version = re.split(r"==", requirement.strip())
        name = re.sub(r"\[.*\]", "", name).lower().replace("_", "-")
        pins[(name, marker.strip())] = version.strip()
    return pins


def test_environment_yml_installs_exactly_the_pinned_set():
    text = (ROOT / "environment.yml").read_text()
    pip_section = [line.strip().removeprefix("- ")
                   for line in text.split("  - pip:\n", 1)[1].splitlines() if line.strip()]
    assert pip_section == ["--extra-index-url https://download.pytorch.org/whl/cpu",
                           "-r requirements-torch-cpu.txt", "-r requirements.txt",
                           "-c constraints.txt"]
    assert "python=3.11" in text and "openjdk=17" in text


def test_every_requirement_is_pinned_with_the_right_markers():
    requirements = _pins((ROOT / "requirements.txt").read_text().splitlines())
    # dask and distributed are released together and must move together; the pinned pair is
    # the one docs/dask-versions.md records as what the course is verified on.
    dask_version = requirements[("dask", "")]
    assert requirements[("distributed", "")] == dask_version
    assert f"**{dask_version}**" in (ROOT / "docs" / "dask-versions.md").read_text()
    markers = {name: marker for name, marker in requirements}
    # Linux's torch is the CPU build from PyTorch's index; PyPI's would be the CUDA one.
    assert markers["torch"] == 'sys_platform != "linux"'
    torch_cpu = _pins((ROOT / "requirements-torch-cpu.txt").read_text().splitlines())
    assert torch_cpu == {("torch", 'sys_platform == "linux"'): "2.13.0+cpu"}
    assert requirements[("torch", markers["torch"])] == "2.13.0"
    # tensorflow-cpu has no wheels for macOS or Linux aarch64.
    assert "aarch64" in markers["tensorflow"] and "aarch64" in markers["tensorflow-cpu"]
    assert "darwin" in markers["tensorflow"] and "darwin" in markers["tensorflow-cpu"]
    assert "darwin" in markers["xgboost"] and "darwin" in markers["xgboost-cpu"]


def test_constraints_agree_with_requirements():
    requirements = _pins((ROOT / "requirements.txt").read_text().splitlines())
    constraints = _pins((ROOT / "constraints.txt").read_text().splitlines())
    for (name, _marker), version in requirements.items():
        if (name, "") in constraints:
            assert constraints[(name, "")] == version, name


def test_binder_uses_the_same_pins_and_the_small_size():
    binder = ROOT / "binder"
    assert "-r ../requirements.txt" in (binder / "requirements.txt").read_text()
    assert "-c ../constraints.txt" in (binder / "requirements.txt").read_text()
    apt = (binder / "apt.txt").read_text().split()
    assert "graphviz" in apt and any("jre" in p for p in apt)
    start = (binder / "start").read_text()
    assert "COURSE_SIZE=small" in start and "proxy/{port}/status" in start
    assert (binder / "runtime.txt").read_text().strip() == "python-3.11"
