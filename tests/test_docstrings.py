"""Every public function, class and method of ``helpers`` has a numpydoc docstring.

"Public" is what a lesson may import: a name without a leading underscore, defined in the module
(not imported into it). Its docstring needs a ``Parameters`` section when it takes arguments, and
a ``Returns`` (or ``Yields``) section when it gives something back: annotated with anything but
``None``, or, unannotated, with a ``return <value>`` or a ``yield`` in its own body. Classes
document their constructor's arguments under ``Parameters`` (or ``Attributes``, for dataclasses
and named tuples). Properties and dunder methods are left to their prose.

The doctests in those docstrings run with ``pytest --doctest-modules helpers`` (``make unit``).
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import re
import textwrap

import pytest

import helpers

MODULES = sorted(info.name for info in pkgutil.walk_packages(helpers.__path__, "helpers."))
#: A module that imports torch at its top level is skipped where torch is not installed.
_TOP_LEVEL_TORCH = re.compile(r"^(?:import|from) torch\b", re.MULTILINE)


def _has_section(doc: str, *titles: str) -> bool:
    """Whether ``doc`` has a numpydoc section titled one of ``titles`` (a title underlined)."""
    return any(re.search(rf"^\s*{title}\s*\n\s*-{{3,}}\s*$", doc, re.MULTILINE)
               for title in titles)


def _gives_something_back(function) -> bool:
    """Whether ``function`` returns a value: its annotation, else a ``return x``/``yield``."""
    function = inspect.unwrap(function)
    annotation = inspect.signature(function).return_annotation
    if annotation is not inspect.Signature.empty:
        return annotation not in (None, "None")
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    except (OSError, TypeError, SyntaxError):
        return False
    body = tree.body[0]
    nodes = list(ast.iter_child_nodes(body))
    while nodes:  # the function's own body, not the functions or classes nested in it
        node = nodes.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
            continue
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if isinstance(node, ast.Return) and node.value is not None and not (
                isinstance(node.value, ast.Constant) and node.value.value is None):
            return True
        nodes.extend(ast.iter_child_nodes(node))
    return False


def _takes_arguments(callable_, *, skip_first: bool = False) -> bool:
    parameters = list(inspect.signature(callable_).parameters)
    return bool(parameters[1:] if skip_first else parameters)


def docstring_problems(obj, name: str) -> list[str]:
    """What the docstring of ``obj`` (a function or a class, called ``name``) lacks."""
    doc = obj.__doc__ or ""
    if not doc.strip():
        return [f"{name}: no docstring"]
    problems = []
    if inspect.isclass(obj):
        try:
            takes = _takes_arguments(obj)
        except (TypeError, ValueError):  # a signature inspect cannot read: nothing to require
            takes = False
        if takes and not _has_section(doc, "Parameters", "Attributes"):
            problems.append(f"{name}: takes arguments but has no Parameters section")
        for attribute, member in vars(obj).items():
            if attribute.startswith("_"):
                continue
            if isinstance(member, (staticmethod, classmethod)):
                function, skip_first = member.__func__, isinstance(member, classmethod)
            elif inspect.isfunction(member):
                function, skip_first = member, True
            else:
                continue
            problems += _function_problems(function, f"{name}.{attribute}", skip_first)
        return problems
    return _function_problems(obj, name, skip_first=False)


def _function_problems(function, name: str, skip_first: bool) -> list[str]:
    doc = function.__doc__ or ""
    if not doc.strip():
        return [f"{name}: no docstring"]
    problems = []
    if _takes_arguments(function, skip_first=skip_first) and not _has_section(doc, "Parameters"):
        problems.append(f"{name}: takes arguments but has no Parameters section")
    if _gives_something_back(function) and not _has_section(doc, "Returns", "Yields"):
        problems.append(f"{name}: gives a value back but has no Returns or Yields section")
    return problems


def public_objects(module) -> dict[str, object]:
    """The functions and classes ``module`` defines under a name without a leading underscore."""
    return {name: obj for name, obj in vars(module).items()
            if not name.startswith("_")
            and (inspect.isfunction(obj) or inspect.isclass(obj))
            and getattr(obj, "__module__", None) == module.__name__}


def import_module(name: str):
    spec = importlib.util.find_spec(name)
    with open(spec.origin, encoding="utf-8") as source:
        if _TOP_LEVEL_TORCH.search(source.read()):
            pytest.importorskip("torch")
    return importlib.import_module(name)


@pytest.mark.parametrize("module_name", MODULES)
def test_public_objects_have_numpydoc_sections(module_name):
    module = import_module(module_name)
    problems = [problem for name, obj in public_objects(module).items()
                for problem in docstring_problems(obj, name)]
    assert not problems, f"{module_name}:\n  " + "\n  ".join(problems)


def test_every_helpers_module_is_checked():
    assert {"helpers.cluster", "helpers.processes", "helpers.sizes",
            "helpers.exercises", "helpers.exercises.lesson00"} <= set(MODULES)


def _undocumented(size, *, small=1):
    """Pick a size."""
    return size if small else None


def _documented(size):
    """Pick a size.

    Parameters
    ----------
    size : int
        The size.

    Returns
    -------
    int
        The same size.
    """
    return size


def _yields_nothing_back(count: int) -> None:
    """Count.

    Parameters
    ----------
    count : int
        Ignored.
    """


def test_the_check_reports_missing_sections():
    assert docstring_problems(_undocumented, "f") == [
        "f: takes arguments but has no Parameters section",
        "f: gives a value back but has no Returns or Yields section",
    ]
    assert docstring_problems(_documented, "g") == []
    assert docstring_problems(_yields_nothing_back, "h") == []
