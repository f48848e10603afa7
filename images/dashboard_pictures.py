"""Screenshots of the Dask dashboard as lesson 00 shows it (``make dashboard-pictures``).

For each language, ``make lab LANG=<lang>`` (JupyterLab's menus in that language) on loopback, a
copy of that language's lesson 00 in headless Chromium (Debian's ``chromium``, driven by
Playwright), its cells run up to the first computation, the Dask sidebar tab's magnifying glass
(dask-labextension finds the notebook's cluster), its default layout of panes (Task Stream, Workers
Memory, Progress) right of the lesson, and then the lesson's computation, held halfway by a
worker plugin while the picture is taken (``tools/lab_browser.py``, shared with the browser
test). Writes ``images/dashboard_es.png`` and ``images/dashboard_en.png``: 1400 x 800, 256
colours.

Run from the repository root: ``python -m images.dashboard_pictures [output_folder]`` (the
Makefile target runs it on a local cluster, as the tests do). Needs Chromium; about 40 s.
"""

from __future__ import annotations

import io
import shutil
import sys
import time
from pathlib import Path

from tools import lab_browser
from tools.course import IMAGES_DIR, NOTEBOOKS_DIR, ROOT

#: The pictures this script takes, by language (images/make_images.py draws the others).
PICTURES = {"es": "dashboard_es.png", "en": "dashboard_en.png"}
#: The cell of lesson 00 that computes while students watch the dashboard.
COMPUTATION = "show_progress(y)"
WIDTH, HEIGHT = 1400, 800
#: Where the lesson copies, logs and scratch files go (ignored by git).
WORK = ROOT / "build" / "dashboard-pictures"


def wait_for_dashboard_port(timeout_s: float = 90) -> None:
    """Wait until the lesson's cluster can take the dashboard port students see (8787).

    ``get_client()`` takes any free port when 8787 is not: held by another cluster, or by the
    connections of one that just closed (TCP TIME_WAIT, a minute). The picture would then show
    another port than the students' link; after ``timeout_s`` it does, with a warning.
    """
    from helpers.cluster import DEFAULT_DASHBOARD_PORT, _port_is_free

    deadline = time.monotonic() + timeout_s
    while not _port_is_free(DEFAULT_DASHBOARD_PORT):
        if time.monotonic() > deadline:
            print(f"warning: port {DEFAULT_DASHBOARD_PORT} is busy, the picture shows another "
                  "dashboard port", file=sys.stderr)
            return
        time.sleep(1)


def take(lang: str, out: Path) -> Path:
    """Take ``PICTURES[lang]`` into ``out``; return its path."""
    work = WORK / lang
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    lesson = work / "00_introduction.ipynb"
    shutil.copyfile(NOTEBOOKS_DIR / lang / lesson.name, lesson)
    flag = work / "release-held-computation"
    with (lab_browser.lab_server(work / "lab", work / "lab-server.log",
                                 lab_browser.make_lab(f"COURSE_LANG={lang}")) as server,
          lab_browser.chromium_page(WIDTH, HEIGHT) as page):
        lab_browser.log_kernel_traffic(page, work / "browser-events.log")
        page.goto(f"{server.base}/lab?token={server.token}")
        lab_browser.open_notebook(page, lesson.relative_to(ROOT).as_posix())
        computation = lab_browser.code_cell_index(page, COMPUTATION)
        wait_for_dashboard_port()
        lab_browser.run_cells(page, "notebook:run-all-above", computation)
        lab_browser.wait_until_idle(page, 120, work / "failed.png")
        lab_browser.connect_dask_panel(page)
        lab_browser.open_dask_panes(page)
        held = lab_browser.hold_cluster(page, flag)
        try:
            lab_browser.run_cells(page, "notebook:run-cell", computation)
            shown = lab_browser.wait_for_held_panes(page, held)
            if not lab_browser.shows_held_computation(shown, held):
                page.screenshot(path=str(work / "failed.png"))
                raise RuntimeError(f"the panes did not show the held computation: {shown}; "
                                   f"see {work}")
            png = page.screenshot()
        finally:
            lab_browser.release_cluster(page, flag)
        lab_browser.wait_until_idle(page, 120, work / "failed.png")
        lab_browser.kernel_execute(page, "from helpers.cluster import close_client\nclose_client()")
    return save_small(png, out / PICTURES[lang])


def save_small(png: bytes, path: Path) -> Path:
    """Save the screenshot ``png`` with 256 colours (a third of the size, same look)."""
    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("RGB")
    image.quantize(256, method=Image.Quantize.MEDIANCUT).save(path, optimize=True)
    return path


def main(out: Path = IMAGES_DIR) -> list[Path]:
    """Take every picture, both languages, into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    return [take(lang, out) for lang in PICTURES]


if __name__ == "__main__":
    for written in main(Path(sys.argv[1]) if len(sys.argv) > 1 else IMAGES_DIR):
        print(f"{written} ({written.stat().st_size // 1024} KiB)")
