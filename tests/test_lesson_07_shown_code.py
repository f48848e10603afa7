"""Lesson 07 prints the source of helpers' functions (``show_code(...)``): its committed outputs
must be the code as it is now.

Editing a function the lesson shows changes the lesson's output, with no other test pointing at
it (nbval would only fail later, on the whole notebook). This test names the function and the
lesson to rebuild. It renders each function with the lesson's own ``show_code`` (taken from the
lesson's source, not copied here) and looks for the result in the outputs of both committed
notebooks.
"""

import ast
import importlib
import inspect
import json
import re
import textwrap
from pathlib import Path

import pytest

from tools.course import LANGUAGES, LESSONS_DIR, notebook_path

pytest.importorskip("torch")

LESSON = LESSONS_DIR / "07_pytorch_streaming.md"
NOTEBOOKS = {language: notebook_path(LESSON, language) for language in LANGUAGES}
CODE_CELL = re.compile(r"^```\{code-cell\}[^\n]*\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def lesson_code() -> ast.Module:
    """All the lesson's code cells, parsed as one module (they are plain Python)."""
    cells = CODE_CELL.findall(LESSON.read_text(encoding="utf-8"))
    # Cell options (":tags: [...]") are not Python.
    cells = ["\n".join(line for line in cell.splitlines() if not line.startswith(":"))
             for cell in cells]
    return ast.parse("\n\n".join(cells))


def lesson_show_code(module: ast.Module):
    """The lesson's ``show_code``, defined from its source; it returns the markdown it would
    display instead of displaying it."""
    definition = next(node for node in module.body
                      if isinstance(node, ast.FunctionDef) and node.name == "show_code")
    namespace = {"ast": ast, "inspect": inspect, "textwrap": textwrap,
                 "Markdown": lambda text: text, "display": lambda text: shown.append(text)}
    shown = []
    exec(compile(ast.Module([definition], type_ignores=[]), str(LESSON), "exec"), namespace)

    def render(function) -> str:
        shown.clear()
        namespace["show_code"](function)
        (text,) = shown
        return text

    return render


def imported_names(module: ast.Module) -> dict[str, tuple[str, str]]:
    """Name -> ``(module, attribute)`` for each ``from module import attribute`` of the lesson."""
    return {alias.asname or alias.name: (node.module, alias.name)
            for node in ast.walk(module) if isinstance(node, ast.ImportFrom) and node.level == 0
            for alias in node.names}


def shown_functions() -> list[str]:
    """The dotted expressions of every ``show_code(...)`` call in the lesson, in order."""
    calls = [node for node in ast.walk(lesson_code())
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show_code"]
    return [ast.unparse(call.args[0]) for call in calls]


def resolve(expression: str, names: dict[str, tuple[str, str]]):
    """The object a dotted expression of the lesson (``streaming.shuffle_buffer``) names."""
    root, *attributes = expression.split(".")
    module, attribute = names[root]
    try:
        target = importlib.import_module(f"{module}.{attribute}")
    except ModuleNotFoundError:
        target = getattr(importlib.import_module(module), attribute)
    for attribute in attributes:
        target = getattr(target, attribute)
    return target


def markdown_outputs(notebook: Path) -> set[str]:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return {"".join(output["data"]["text/markdown"])
            for cell in cells if cell["cell_type"] == "code"
            for output in cell.get("outputs", [])
            if "text/markdown" in output.get("data", {})}


def test_every_show_code_call_is_found():
    """The parsing above finds every call (one it missed would go unchecked below): as many as
    the lesson's text has, less the definition."""
    calls = LESSON.read_text(encoding="utf-8").count("show_code(") - 1
    assert calls > 0 and len(shown_functions()) == calls


@pytest.mark.parametrize("expression", shown_functions())
@pytest.mark.parametrize("language", sorted(NOTEBOOKS))
def test_committed_outputs_show_the_current_code(expression, language):
    module = lesson_code()
    render = lesson_show_code(module)
    function = resolve(expression, imported_names(module))
    where = f"{inspect.getsourcefile(function)}:{inspect.getsourcelines(function)[1]}"
    assert render(function) in markdown_outputs(NOTEBOOKS[language]), (
        f"Lesson 07 shows the code of {expression} ({where}), and the committed "
        f"notebooks/{language}/07_pytorch_streaming.ipynb shows another version of it. "
        "Rebuild the lesson: make notebooks LESSONS=07."
    )
