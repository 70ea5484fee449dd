"""The layers hold: index/ (every subpackage) never imports discord or bot, checked statically and at run time;
no import circle anywhere in index/ or bot/, counting imports inside functions and under TYPE_CHECKING."""

import ast
import subprocess
import sys

import pytest

from tests import layout
from tests.conftest import ROOT, write


def test_index_never_imports_discord_or_bot_statically():
    offenders = []
    for path in (ROOT / "index").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in ("discord", "bot")]
    assert offenders == []


def test_importing_the_whole_engine_loads_no_discord():
    # walk_packages goes down every subpackage (index.store.disk, index.answer.quotes ...), not just the top.
    code = (
        "import pkgutil, importlib, sys, index\n"
        "names = [m.name for m in pkgutil.walk_packages(index.__path__, 'index.')]\n"
        "for name in names: importlib.import_module(name)\n"
        "print(len(names), sorted(k for k in sys.modules if k.split('.')[0] in ('discord', 'bot')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    count, loaded = run.stdout.strip().split(" ", 1)
    assert loaded == "[]"
    assert int(count) == len(layout.modules(ROOT, ["index"])) - 1  # every module of the tree but index itself


def test_no_import_circle_in_index_or_bot():
    found = layout.circles(layout.import_graph())
    assert not found, "import circles (a module -> what it imports, file:line):\n" + "\n".join(found)


# Tiny packages, one file per entry, to show the circle finder sees what a careless reading would miss.
CIRCLES = {
    "an import inside a function": (
        {"a.py": "def f():\n    from pkg import b\n", "b.py": "import pkg.a\n"}, ["pkg.a <-> pkg.b"]),
    "an import under TYPE_CHECKING": (
        {"a.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from pkg.b import B\n",
         "b.py": "from pkg.a import A\n"}, ["pkg.a <-> pkg.b"]),
    "from pkg import mod lands on the module, not on the package": (
        {"a.py": "from pkg import b\n", "b.py": "from . import a\n"}, ["pkg.a <-> pkg.b"]),
    "a package importing its submodule, which imports the package": (
        {"__init__.py": "from pkg.a import f\n", "a.py": "from pkg import VERSION\n"}, ["pkg <-> pkg.a"]),
    "a relative import two levels up": (
        {"sub/__init__.py": "", "sub/x.py": "from ..a import f\n", "a.py": "from pkg.sub import x\n"},
        ["pkg.a <-> pkg.sub.x"]),
    "three modules in a ring, and one outside it": (
        {"a.py": "import pkg.b\n", "b.py": "from .c import C\n", "c.py": "import pkg.a\nimport pkg.d\n", "d.py": ""},
        ["pkg.a <-> pkg.b <-> pkg.c"]),
    "a chain without a way back": (
        {"__init__.py": "from pkg import a\n", "a.py": "from pkg import b\n", "b.py": "from .c import C\n",
         "c.py": "import json\n"}, []),
}  # fmt: skip


@pytest.mark.parametrize(("files", "expected"), CIRCLES.values(), ids=CIRCLES.keys())
def test_circle_finder(tmp_path, files, expected):
    write(tmp_path / "pkg" / "__init__.py", "")
    for name, text in files.items():
        write(tmp_path / "pkg" / name, text)
    found = layout.circles(layout.import_graph(tmp_path, ["pkg"]))
    assert [circle.split(":")[0] for circle in found] == expected
