"""Every picture in images/ is made by a script: drawn by images/make_images.py, or a screenshot
of JupyterLab taken by images/dashboard_pictures.py (which needs Chromium and a cluster: the
browser test runs its code, `make dashboard-pictures` retakes them); lessons only show those."""

import re
import subprocess
import sys

from images.dashboard_pictures import PICTURES as SCREENSHOTS
from tools.course import ROOT, lesson_sources


def test_images_are_made_by_the_scripts(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "images" / "make_images.py"), str(tmp_path)],
                   check=True, capture_output=True)
    drawn = {p.name for p in tmp_path.glob("*.png")}
    committed = {p.name for p in (ROOT / "images").glob("*.png")}
    screenshots = set(SCREENSHOTS.values())
    assert drawn and not drawn & screenshots
    assert committed == drawn | screenshots


def test_screenshots_stay_small():
    for name in SCREENSHOTS.values():
        assert (ROOT / "images" / name).stat().st_size < 300_000, name


def test_lessons_show_existing_images():
    for source in lesson_sources():
        for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", source.read_text(encoding="utf-8")):
            if not path.startswith("http"):
                assert (ROOT / "notebooks" / "es" / path).resolve().exists(), (source.name, path)
