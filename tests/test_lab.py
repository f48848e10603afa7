"""`make lab` starts JupyterLab on loopback, on the course, with the Dask extension."""

from conftest import api_get

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
