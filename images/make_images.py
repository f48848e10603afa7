"""Draw the pictures the lessons show, in Spanish and English (``make images``).

Every PNG in images/ is produced here, from code, so a picture can be fixed or translated in one
place. Run from anywhere: ``python images/make_images.py [output_folder]``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyBboxPatch, Rectangle  # noqa: E402

from tools.course import IMAGES_DIR  # noqa: E402

TEXT = {
    "es": {
        "cpu_title": "Problema 1: limitado por cómputo",
        "cpu_sub": "Los datos caben en memoria,\npero hay muchísimo cálculo",
        "cpu_tasks": "ajustes de modelos\n(p. ej. búsqueda de hiperparámetros)",
        "mem_title": "Problema 2: limitado por memoria",
        "mem_sub": "Los datos no caben en la RAM\nde una sola máquina",
        "mem_chunks": "bloques (chunks) repartidos\nentre los workers",
        "ram": "RAM de una máquina",
        "worker": "worker",
    },
    "en": {
        "cpu_title": "Problem 1: compute-bound",
        "cpu_sub": "The data fit in memory,\nbut there is a lot of computing",
        "cpu_tasks": "model fits\n(e.g. a hyperparameter search)",
        "mem_title": "Problem 2: memory-bound",
        "mem_sub": "The data do not fit in the RAM\nof one machine",
        "mem_chunks": "blocks (chunks) spread\nover the workers",
        "ram": "one machine's RAM",
        "worker": "worker",
    },
}

WORKER_COLORS = ("#1f77b4", "#ff7f0e")


def _workers(ax, text, y):
    for i, color in enumerate(WORKER_COLORS):
        ax.add_patch(FancyBboxPatch((1 + 4.5 * i, y), 3.5, 1.2, boxstyle="round,pad=0.1",
                                    facecolor=color, alpha=0.25, edgecolor=color))
        ax.text(2.75 + 4.5 * i, y + 0.6, f"{text['worker']} {i + 1}", ha="center", va="center")


def scaling_problems(lang: str, out: Path) -> Path:
    """Two panels: many independent fits (compute-bound) vs data split in chunks (memory-bound)."""
    text = TEXT[lang]
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6))
    for ax in (left, right):
        ax.set_xlim(0, 10)
        ax.set_ylim(0, 10)
        ax.axis("off")

    left.set_title(text["cpu_title"], fontweight="bold")
    left.text(5, 8.9, text["cpu_sub"], ha="center", va="center")
    for k in range(12):
        row, col = divmod(k, 6)
        color = WORKER_COLORS[k % 2]
        left.add_patch(Rectangle((0.6 + col * 1.5, 5.2 + row * 1.1), 1.2, 0.8,
                                 facecolor=color, alpha=0.8))
    left.text(5, 4.4, text["cpu_tasks"], ha="center", va="center", fontsize=9)
    _workers(left, text, 1.2)

    right.set_title(text["mem_title"], fontweight="bold")
    right.text(5, 8.9, text["mem_sub"], ha="center", va="center")
    right.add_patch(Rectangle((0.5, 5.0), 3.0, 2.6, fill=False, linestyle="--", linewidth=2))
    right.text(2.0, 4.6, text["ram"], ha="center", fontsize=9)
    for k in range(8):
        color = WORKER_COLORS[k % 2]
        right.add_patch(Rectangle((0.6 + k * 1.15, 5.3), 1.0, 2.0, facecolor=color, alpha=0.8))
    right.text(5, 3.9, text["mem_chunks"], ha="center", va="center", fontsize=9)
    _workers(right, text, 1.2)

    fig.tight_layout()
    path = out / f"scaling_problems_{lang}.png"
    fig.savefig(path, dpi=90, metadata={"Software": None})
    plt.close(fig)
    return path


PICTURES = (scaling_problems,)


def main(out: Path = IMAGES_DIR) -> list[Path]:
    """Draw every picture in both languages into ``out``; return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    return [draw(lang, out) for draw in PICTURES for lang in TEXT]


if __name__ == "__main__":
    for written in main(Path(sys.argv[1]) if len(sys.argv) > 1 else IMAGES_DIR):
        print(written)
