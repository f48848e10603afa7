"""Every picture in images/ is drawn by images/make_images.py, and lessons only show those."""

import re
import subprocess
import sys

from tools.bilingual import ROOT, lesson_sources


def test_images_are_made_by_the_script(tmp_path):
    subprocess.run([sys.executable, str(ROOT / "images" / "make_images.py"), str(tmp_path)],
                   check=True, capture_output=True)
    drawn = {p.name for p in tmp_path.glob("*.png")}
    committed = {p.name for p in (ROOT / "images").glob("*.png")}
    assert drawn and drawn == committed


def test_lessons_show_existing_images():
    for source in lesson_sources():
        for path in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", source.read_text(encoding="utf-8")):
            if not path.startswith("http"):
                assert (ROOT / "notebooks" / "es" / path).resolve().exists(), (source.name, path)
