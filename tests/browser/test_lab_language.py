"""`make lab LANG=es` in headless Chromium: JupyterLab's menus are in Spanish (about 10 s).

The server side (the setting's default, the language pack, notebooks/es) is checked in
tests/test_lab.py; this checks that the page really shows it. Screenshot:
test-artifacts/browser/lab_es_file_menu.png.
"""

from tools import lab_browser


def test_make_lab_lang_es_shows_spanish_menus(lab_server_es, browser_artifacts):
    with lab_browser.chromium_page(1400, 900) as page:
        page.goto(f"{lab_server_es.base}/?token={lab_server_es.token}")
        file_menu = page.get_by_role("menuitem", name="Archivo", exact=True)
        file_menu.wait_for(timeout=60_000)
        assert page.evaluate("document.documentElement.lang") == "es-ES"
        assert page.url.split("?")[0].endswith("/lab/tree/notebooks/es")
        menus = page.locator("#jp-menu-panel .lm-MenuBar-itemLabel").all_inner_texts()
        assert {"Archivo", "Editar", "Ver", "Ayuda"} <= set(menus), menus
        file_menu.click()
        entries = page.locator(".lm-Menu").first.inner_text()
        page.screenshot(path=str(browser_artifacts / "lab_es_file_menu.png"))
        assert "Nuevo lanzador" in entries and "Guardar todo" in entries, entries
