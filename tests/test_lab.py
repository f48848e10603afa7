"""`make lab` starts JupyterLab on loopback, on the course, with the Dask extension, in English or
(`make lab LANG=es`) in Spanish."""

import re
import subprocess
import urllib.error
import urllib.request

from conftest import NEUTRAL_ENV, ROOT, api_get

from tools.bilingual import lesson_sources


def test_lab_lists_every_lesson_in_both_languages(lab_server):
    base, token, _ = lab_server
    for lang in ("es", "en"):
        listing = api_get(f"{base}/api/contents/notebooks/{lang}", token)
        names = {item["name"] for item in listing["content"]}
        assert {f"{s.stem}.ipynb" for s in lesson_sources()} <= names


def test_lab_has_the_dask_extension(lab_server):
    base, token, _ = lab_server
    extensions = api_get(f"{base}/lab/api/extensions", token)
    names = {e["name"] for e in extensions}
    assert "dask-labextension" in names, names


def test_lab_listens_on_loopback_only(lab_server):
    import psutil

    _, _, port = lab_server
    listening = [c for c in psutil.net_connections(kind="inet")
                 if c.status == psutil.CONN_LISTEN and c.laddr.port == port]
    assert listening and all(c.laddr.ip == "127.0.0.1" for c in listening)


# The interface language (tools/lab_language.py): `make lab` is English unless LANG (or
# COURSE_LANG) says Spanish; `make lab LANG=es` opens notebooks/es with JupyterLab in Spanish.

TRANSLATION = "/lab/api/settings/@jupyterlab/translation-extension:plugin"


def _redirect(url: str, token: str) -> str:
    """The path ``url`` redirects to (not followed), without its query."""

    class Stop(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args):
            return None

    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    try:
        urllib.request.build_opener(Stop).open(request, timeout=5)
    except urllib.error.HTTPError as error:
        assert error.code == 302, error
        return error.headers["Location"].split("?")[0]
    raise AssertionError(f"{url} did not redirect")


def test_lab_is_in_english_on_notebooks_en_by_default(lab_server):
    base, token, _ = lab_server
    setting = api_get(f"{base}{TRANSLATION}", token)
    assert setting["schema"]["properties"]["locale"]["default"] == "en"
    assert setting["settings"] == {}  # a default, not a user setting
    assert _redirect(f"{base}/", token).endswith("/lab/tree/notebooks/en")


def test_make_lab_lang_es_serves_the_spanish_interface(lab_server_es):
    base, token, _, settings = lab_server_es
    setting = api_get(f"{base}{TRANSLATION}", token)
    assert setting["schema"]["properties"]["locale"]["default"] == "es_ES"
    assert setting["settings"] == {}
    # What the page then loads: the Spanish language pack, with its menus in Spanish.
    pack = api_get(f"{base}/lab/api/translations/es_ES", token)
    assert pack["data"]["jupyterlab"]["menu\x04File"] == ["Archivo"], pack["message"]
    assert _redirect(f"{base}/", token).endswith("/lab/tree/notebooks/es")
    # The student's user settings were neither needed nor written.
    assert not (settings / "@jupyterlab" / "translation-extension").exists()


def _make_lab_language(*make_vars: str, lang_env: str) -> str:
    """The language argument that `make lab MAKE_VARS` (dry run) hands to tools.lab_language."""
    env = {**NEUTRAL_ENV, "LANG": lang_env}
    dry = subprocess.run(["make", "-n", "--no-print-directory", "lab", *make_vars], cwd=ROOT,
                         env=env, capture_output=True, text=True, check=True).stdout
    return re.search(r'-m tools\.lab_language "([^"]*)"', dry).group(1)


def test_make_lab_language_comes_from_lang_or_course_lang():
    assert _make_lab_language(lang_env="es_ES.UTF-8") == "es_ES.UTF-8"  # a Spanish shell
    assert _make_lab_language("LANG=en", lang_env="es_ES.UTF-8") == "en"
    assert _make_lab_language("COURSE_LANG=en", lang_env="es_ES.UTF-8") == "en"
    assert _make_lab_language("COURSE_LANG=es", lang_env="C.UTF-8") == "es"
    assert _make_lab_language(lang_env="C.UTF-8") == "C.UTF-8"
