"""The design's import rules (../shared/DESIGN.md, "never" list) as tests.

Import directions: ``particles.cli`` -> core and render (render only inside functions, so
that ``import particles.cli`` loads no pygame); render -> core; core -> neither. Every module
under ``particles/`` and ``render/`` is parsed with :mod:`ast`, so imports inside functions
and ``importlib.import_module("...")`` calls count too; nothing is imported to check them.

Start-up (issue 16): importing the command line or a library module loads none of the heavy
libraries; the commands that need them import them.
"""

from __future__ import annotations

import ast
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("particles", "render")
#: ``python -m particles`` runs the command line: its module is part of the face.
FACE = ("particles.cli", "particles.__main__")


def _under(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def module_name(root: Path, path: Path) -> tuple[str, bool]:
    """Dotted name of the module in ``path`` under ``root``, and whether it is a package."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    is_package = parts[-1] == "__init__"
    if is_package:
        parts.pop()
    return ".".join(parts), is_package


def _resolve(node: ast.ImportFrom, module: str, is_package: bool) -> str:
    """Absolute name of the module a ``from ... import`` names (relative levels resolved)."""
    if node.level == 0:
        return node.module or ""
    package = module if is_package else module.rpartition(".")[0]
    base = package.split(".")[: max(len(package.split(".")) - (node.level - 1), 0)]
    return ".".join(base + ([node.module] if node.module else []))


class _Imports(ast.NodeVisitor):
    """Collects every import statement of a module: (the modules it may import, line, inside
    a function). ``from a import b`` may import ``a`` and ``a.b``; both are listed."""

    def __init__(self, module: str, is_package: bool):
        self.module, self.is_package = module, is_package
        self.found: list[tuple[tuple[str, ...], int, bool]] = []
        self._depth = 0

    def _function(self, node):
        self._depth += 1
        self.generic_visit(node)
        self._depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _function

    def _add(self, names: tuple[str, ...], node: ast.AST) -> None:
        self.found.append((names, node.lineno, self._depth > 0))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._add((alias.name,), node)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        base = _resolve(node, self.module, self.is_package)
        self._add((base, *(f"{base}.{a.name}" if base else a.name for a in node.names)), node)

    def visit_Call(self, node: ast.Call) -> None:
        f = node.func
        name = f.attr if isinstance(f, ast.Attribute) else getattr(f, "id", "")
        if name in ("import_module", "__import__") and node.args and \
                isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str):
            self._add((node.args[0].value,), node)
        self.generic_visit(node)


def modules(root: Path) -> Iterator[tuple[Path, str, bool]]:
    """(path, dotted name, is a package) of every module of the project's packages."""
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            yield (path, *module_name(root, path))


def imports(root: Path) -> Iterator[tuple[Path, str, tuple[str, ...], int, bool]]:
    """(path, importer, modules it may import, line, inside a function) for every import
    statement of the project."""
    for path, module, is_package in modules(root):
        visitor = _Imports(module, is_package)
        visitor.visit(ast.parse(path.read_text("utf-8"), str(path)))
        for targets, line, lazy in visitor.found:
            yield path, module, targets, line, lazy


def rule_broken(importer: str, target: str, lazy: bool) -> str | None:
    """Which import rule ``importer`` breaks by importing ``target``, or None."""
    if any(_under(importer, face) for face in FACE):
        if _under(target, "render") and not lazy:
            return "the command line imports render only inside the commands that use it"
        return None
    if _under(importer, "particles"):
        if _under(target, "render"):
            return "the core never imports render"
        if _under(target, "particles.cli"):
            return "the core never imports the command line"
    if _under(importer, "render") and _under(target, "particles.cli"):
        return "render never imports the command line"
    return None


def violations(root: Path) -> list[str]:
    """One line per import statement that breaks a rule:
    ``path:line: importer imports target (rule)``."""
    out = []
    for path, importer, targets, line, lazy in imports(root):
        for target in targets:
            rule = rule_broken(importer, target, lazy)
            if rule:
                out.append(f"{path.relative_to(root)}:{line}: {importer} imports {target} "
                           f"({rule})")
                break
    return out


def test_no_forbidden_import():
    found = violations(ROOT)
    assert not found, "forbidden imports:\n" + "\n".join(found)


def test_every_module_is_checked():
    names = {name for _, name, _ in modules(ROOT)}
    for expected in ("particles", "particles.simulation", "particles.cli", "particles.cli.run",
                     "particles.stats.fits", "render.app", "render.video"):
        assert expected in names, expected


PLANTED = {
    "particles/__init__.py": "from .core import f\n",
    "particles/core.py": "def f():\n    from render import app  # lazily: still forbidden\n",
    "particles/relative.py": "from . import cli\n",
    "particles/deep.py": "from .cli.run import cmd_run\n",
    "particles/dynamic.py": "import importlib\nimportlib.import_module('render.video')\n",
    "particles/ok.py": "import numpy\nfrom .core import f\nfrom particles import Simulation\n",
    "particles/cli/__init__.py": "from . import run\n",
    "particles/cli/run.py": "def g():\n    from render import video\n",
    "particles/cli/eager.py": "import render.app\n",
    "particles/cli/sub/__init__.py": "from ...core import f\n",
    "particles/__main__.py": "from .cli import main\n",
    "render/__init__.py": "",
    "render/app.py": ("class App:\n    def close(self):\n"
                      "        from particles.cli import UsageError\n"),
    "render/video.py": "from particles import cli\n",
    "render/scene.py": "from particles.state import PumpState\nfrom . import video\n",
}


def test_checker_flags_planted_imports(tmp_path):
    """The checker can fail: planted bad imports (eager and lazy, absolute and relative,
    dynamic) are each reported once, and allowed ones are not."""
    for rel, text in PLANTED.items():
        path = tmp_path / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    found = {line.split(" (")[0] for line in violations(tmp_path)}
    assert found == {
        "particles/core.py:2: particles.core imports render",
        "particles/relative.py:1: particles.relative imports particles.cli",
        "particles/deep.py:1: particles.deep imports particles.cli.run",
        "particles/dynamic.py:2: particles.dynamic imports render.video",
        "particles/cli/eager.py:1: particles.cli.eager imports render.app",
        "render/app.py:3: render.app imports particles.cli",
        "render/video.py:1: render.video imports particles.cli",
    }, found


HEAVY = ("pandas", "scipy.stats", "scipy.optimize", "dask", "distributed", "matplotlib",
         "pygame", "imageio_ffmpeg", "pyarrow", "render")


@pytest.mark.parametrize("module", ["particles.cli", "particles.stats", "particles.sweep",
                                    "particles.bench", "particles.output"])
def test_import_loads_nothing_heavy(module):
    """Start-up: importing ``module`` in a fresh process loads none of the heavy libraries."""
    code = f"import sys, {module}; print(*(m for m in {HEAVY!r} if m in sys.modules))"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       timeout=300, cwd=ROOT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == [], f"import {module} loaded {r.stdout.strip()}"
