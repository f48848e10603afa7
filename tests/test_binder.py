"""Binder builds the course's pinned set: repo2docker renders the image (no Docker daemon needed),
and the packages of its base environment that the course leaves alone agree with the pins."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tools.course import LANGUAGES, ROOT
from tools.lab_browser import api_get
from tools.platforms import IndexUnreachable, resolve

#: Conda package names whose PyPI name differs.
CONDA_TO_PYPI = {"brotli-python": "brotli", "python-fastjsonschema": "fastjsonschema",
                 "jupyterhub-base": "jupyterhub", "nbconvert-core": "nbconvert"}


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


@pytest.fixture(scope="module")
def rendered():
    """(Dockerfile, repo2docker's log) for this repository."""
    repo2docker = Path(sys.executable).parent / "repo2docker"
    done = subprocess.run([str(repo2docker), "--no-build", "--debug", "--user-id", "1000",
                           "--user-name", "jovyan", str(ROOT)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout, done.stderr


def base_environment(dockerfile: str) -> dict[str, str]:
    """Python packages (PyPI name -> version) of the conda environment the image starts from."""
    import warnings

    with warnings.catch_warnings():  # repo2docker imports a deprecated pythonjsonlogger module
        warnings.simplefilter("ignore", DeprecationWarning)
        import repo2docker

    encoded = re.search(r"conda-2f(environment-2epy-[0-9a-z-]+-2elock)", dockerfile).group(1)
    name = re.sub(r"-2([a-f0-9])", lambda m: bytes.fromhex("2" + m.group(1)).decode(), encoded)
    lock = Path(repo2docker.__file__).parent / "buildpacks" / "conda" / name
    packages = {}
    for line in lock.read_text().splitlines():
        if not line.startswith("http"):
            continue
        filename = re.sub(r"\.(conda|tar\.bz2)$", "", line.split("#")[0].rsplit("/", 1)[1])
        conda_name, version, build = filename.rsplit("-", 2)
        if build.startswith("py"):  # a Python package, not a C library
            packages[_norm(CONDA_TO_PYPI.get(conda_name, conda_name))] = version
    return packages


def test_binder_image_installs_the_pinned_set_on_python_311(rendered):
    dockerfile, log = rendered
    assert dockerfile.lstrip().startswith("FROM docker.io/library/buildpack-deps:24.04")
    assert "Building conda environment for python=3.11" in log
    assert 'pip install --no-cache-dir -r "binder/requirements.txt"' in dockerfile
    apt = re.search(r"apt-get install --yes --no-install-recommends ([^&]+)", dockerfile).group(1)
    assert {"graphviz", "openjdk-17-jre-headless"} <= set(apt.split())
    assert "RUN ./binder/postBuild" in dockerfile
    lines = (ROOT / "binder" / "requirements.txt").read_text().split("\n")
    assert {"-r ../requirements.txt", "-c ../constraints.txt", "-r ../requirements-torch-cpu.txt",
            "--extra-index-url https://download.pytorch.org/whl/cpu"} <= set(lines)


def test_binder_base_environment_agrees_with_the_pins(rendered, tmp_path):
    """pip installs the course's pins over the base environment and leaves its other packages as
    they are: those must be compatible with the pins (notebook 7.4.7 was not: it needs
    jupyterlab < 4.5, so the course pins notebook too)."""
    base = base_environment(rendered[0])
    assert base["notebook"] and base["jupyterlab"]
    pinned = {_norm(line.split("==")[0].split("[")[0])
              for name in ("requirements.txt", "constraints.txt")
              for line in (ROOT / name).read_text().splitlines()
              if "==" in line and not line.startswith("#")}
    left_alone = tmp_path / "base.txt"
    left_alone.write_text("".join(f"{name}=={version}\n" for name, version in base.items()
                                  if name not in pinned and name != "pip"))
    try:
        resolve("Linux x86_64", "3.11", ("requirements.txt", str(left_alone)))
    except IndexUnreachable as error:
        pytest.skip(f"the package index can't be reached, not checked: {error}")


# The README's Binder link per language: course/es or course/en (tools/lab_language.py, enabled by
# binder/start) sets JupyterLab's interface language and opens that language's lessons.

BINDER_LINK = ("https://mybinder.org/v2/gh/dask-ml-course/dask-ml-course/main"
               "?urlpath=course/{lang}")
TRANSLATION = "/lab/api/settings/@jupyterlab/translation-extension:plugin"


@pytest.fixture(scope="module")
def binder_server(start_lab):
    """The server the way Binder starts it: binder/start, then the image's `jupyter notebook`."""
    notebook = str(Path(sys.executable).parent / "jupyter-notebook")

    def command(args: str) -> list[str]:
        return ["bash", "binder/start", notebook, "--ServerApp.ip=127.0.0.1", *args.split()]

    with start_lab("binder-server", command) as server:
        yield server


def test_readme_has_a_binder_link_per_language():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for lang in LANGUAGES:
        assert f"]({BINDER_LINK.format(lang=lang)})" in readme, lang


def test_binder_links_set_the_interface_language_and_open_the_lessons(binder_server,
                                                                      open_unfollowed):
    base, token = binder_server.base, binder_server.token
    setting_file = (binder_server.settings / "@jupyterlab" / "translation-extension"
                    / "plugin.jupyterlab-settings")
    # Without the token (or Binder's cookie) the route only sends to the login page.
    status, location = open_unfollowed(f"{base}/course/es")
    assert status == 302 and "/login" in location and not setting_file.exists()
    for lang, locale in (("es", "es_ES"), ("en", "en"), ("es", "es_ES")):
        # Binder opens <server>/<urlpath>?token=...: the token goes on to JupyterLab's page.
        status, location = open_unfollowed(f"{base}/course/{lang}?token={token}")
        assert (status, location) == (302, f"/lab/tree/notebooks/{lang}?token={token}")
        setting = api_get(f"{base}{TRANSLATION}", token)
        assert setting["settings"] == {"locale": locale}
        # The server translates the settings' own texts too (user setting, unlike make lab's).
        assert setting["schema"]["title"] == ("Idioma" if lang == "es" else "Language")
    status, location = open_unfollowed(f"{base}/course/es/00_introduction.ipynb?token={token}")
    assert location == f"/lab/tree/notebooks/es/00_introduction.ipynb?token={token}"
    assert open_unfollowed(f"{base}/course/fr?token={token}")[0] == 404
    pack = api_get(f"{base}/lab/api/translations/es_ES", token)
    assert pack["data"]["jupyterlab"]["menu\x04File"] == ["Archivo"]
