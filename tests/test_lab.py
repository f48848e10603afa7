"""`make lab` starts JupyterLab on loopback, on the course, with the Dask extension, in English or
(`make lab LANG=es`) in Spanish."""

import re
import subprocess

import pytest

from tools.course import LANGUAGES, ROOT, lesson_sources
from tools.lab_browser import api_get


def test_lab_lists_every_lesson_in_both_languages(lab_server):
    base, token = lab_server.base, lab_server.token
    for lang in LANGUAGES:
        listing = api_get(f"{base}/api/contents/notebooks/{lang}", token)
        names = {item["name"] for item in listing["content"]}
        assert {f"{s.stem}.ipynb" for s in lesson_sources()} <= names


def test_lab_has_the_dask_extension(lab_server):
    extensions = api_get(f"{lab_server.base}/lab/api/extensions", lab_server.token)
    names = {e["name"] for e in extensions}
    assert "dask-labextension" in names, names


def test_lab_listens_on_loopback_only(lab_server):
    import psutil

    listening = [c for c in psutil.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == lab_server.port]
    assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening)


# The interface language (tools/lab_language.py): `make lab` is English unless LANG (or
# COURSE_LANG) says Spanish; `make lab LANG=es` opens notebooks/es with JupyterLab in Spanish.

TRANSLATION = "/lab/api/settings/@jupyterlab/translation-extension:plugin"


def test_lab_is_in_english_on_notebooks_en_by_default(lab_server, open_unfollowed):
    base, token = lab_server.base, lab_server.token
    setting = api_get(f"{base}{TRANSLATION}", token)
    assert setting["schema"]["properties"]["locale"]["default"] == "en"
    assert setting["settings"] == {}  # a default, not a user setting
    status, location = open_unfollowed(f"{base}/?token={token}")
    assert (status, location.split("?")[0]) == (302, "/lab/tree/notebooks/en")


def test_make_lab_lang_es_serves_the_spanish_interface(lab_server_es, open_unfollowed):
    base, token, settings = lab_server_es.base, lab_server_es.token, lab_server_es.settings
    setting = api_get(f"{base}{TRANSLATION}", token)
    assert setting["schema"]["properties"]["locale"]["default"] == "es_ES"
    assert setting["settings"] == {}
    # What the page then loads: the Spanish language pack, with its menus in Spanish.
    pack = api_get(f"{base}/lab/api/translations/es_ES", token)
    assert pack["data"]["jupyterlab"]["menu\x04File"] == ["Archivo"], pack["message"]
    status, location = open_unfollowed(f"{base}/?token={token}")
    assert (status, location.split("?")[0]) == (302, "/lab/tree/notebooks/es")
    # The student's user settings were neither needed nor written.
    assert not (settings / "@jupyterlab" / "translation-extension").exists()


@pytest.mark.parametrize("make_vars, lang_env, handed_on", [
    ((), "es_ES.UTF-8", "es_ES.UTF-8"),  # a Spanish shell
    (("LANG=en",), "es_ES.UTF-8", "en"),
    (("COURSE_LANG=en",), "es_ES.UTF-8", "en"),
    (("COURSE_LANG=es",), "C.UTF-8", "es"),
    ((), "C.UTF-8", "C.UTF-8"),
])
def test_make_lab_language_comes_from_lang_or_course_lang(neutral_env, make_vars, lang_env,
                                                          handed_on):
    """The language argument that `make lab MAKE_VARS` (dry run) hands to tools.lab_language."""
    dry = subprocess.run(["make", "-n", "--no-print-directory", "lab", *make_vars], cwd=ROOT,
                         env={**neutral_env, "LANG": lang_env}, capture_output=True, text=True,
                         check=True).stdout
    assert re.search(r'-m tools\.lab_language "([^"]*)"', dry).group(1) == handed_on
