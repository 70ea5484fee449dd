"""index/ is the engine: it never imports discord or bot (checked statically and at run time)."""

import ast
import subprocess
import sys

from tests.conftest import ROOT


def test_index_never_imports_discord_or_bot_statically():
    offenders = []
    for path in (ROOT / "index").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            offenders += [f"{path.name}: {n}" for n in names if n.split(".")[0] in ("discord", "bot")]
    assert offenders == []


def test_importing_the_whole_engine_loads_no_discord():
    code = (
        "import pkgutil, importlib, sys, index\n"
        "for m in pkgutil.iter_modules(index.__path__): importlib.import_module('index.' + m.name)\n"
        "print(sorted(k for k in sys.modules if k.split('.')[0] in ('discord', 'bot')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    assert out.strip() == "[]"
