"""What bot/ modules may import: the settings are data (no engine, no scipy, no discord), the cogs are handed
their services and never reach for the client."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

from tests.conftest import ROOT


def _loaded_after(statement: str) -> list[str]:
    """The modules a fresh interpreter holds after `statement`."""
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True).stdout
    return json.loads(out)


def test_importing_the_settings_loads_no_engine_scipy_or_discord():
    loaded = _loaded_after("import bot.settings")
    assert [m for m in loaded if m.split(".")[0] in ("index", "scipy", "bm25s", "discord", "numpy")] == []
    assert "bot.settings" in loaded  # the check looks at the right process


def _bot_imports(path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return {n for n in names if n.split(".")[0] == "bot"}


def test_cogs_import_services_and_helpers_never_the_client():
    allowed = {"bot.access", "bot.answer_buttons", "bot.conversations", "bot.jobs", "bot.options", "bot.replies",
               "bot.settings"}  # fmt: skip
    for path in sorted((ROOT / "bot" / "cogs").glob("*.py")):
        odd = {n for n in _bot_imports(path) if n not in allowed and not n.startswith(("bot.render", "bot.i18n"))}
        assert odd == set(), path.name
