"""The shape of index/ and bot/: the import graph between their modules, its circles, and the long definitions.

`python -m tests.layout` (`make layout`) prints the yardstick of issue 12: functions over 60 lines, classes over
250 lines and every import circle. tests/test_layers.py fails on a circle; the lengths are only reported.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

PACKAGES = ("index", "bot")
FUNCTION_LINES = 60
CLASS_LINES = 250


@dataclass(frozen=True)
class Import:
    """One import statement of `source` that lands on `target`, both modules of the tree."""

    source: str
    target: str
    path: str
    line: int


@dataclass(frozen=True)
class Definition:
    """A function or class with its length in lines, from its `def`/`class` line to its last line."""

    kind: str
    name: str
    path: str
    line: int
    lines: int


def modules(root: Path, packages: Sequence[str] = PACKAGES) -> dict[str, Path]:
    """Map each module's dotted name to its file (a package's name to its __init__.py)."""
    found = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = path.relative_to(root).with_suffix("").parts
            found[".".join(parts[:-1] if parts[-1] == "__init__" else parts)] = path
    return found


def _base(name: str, is_package: bool, level: int, module: str | None) -> str:
    """The absolute module a `from ... import` statement of module `name` reads from."""
    if not level:
        return module or ""
    parts = name.split(".") if is_package else name.split(".")[:-1]
    parts = parts[: len(parts) - (level - 1)]
    return ".".join([*parts, module] if module else parts)


def module_imports(name: str, path: Path, known: Collection[str], root: Path) -> Iterator[Import]:
    """Yield the imports of one module that land on a module in `known`.

    Every import statement counts, wherever it sits (function bodies, `if TYPE_CHECKING:`): each can close a
    circle. `from pkg import mod` lands on `pkg.mod` when that is a module, on `pkg` otherwise.
    """
    where = str(path.relative_to(root))
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), where)):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _base(name, path.name == "__init__.py", node.level, node.module)
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in dict.fromkeys(targets):
            if target in known and target != name:
                yield Import(name, target, where, node.lineno)


def import_graph(root: Path = ROOT, packages: Sequence[str] = PACKAGES) -> list[Import]:
    """Return every import between the modules of `packages` under `root`."""
    found = modules(root, packages)
    return [edge for name, path in found.items() for edge in module_imports(name, path, found, root)]


def _reachable(graph: dict[str, set[str]], start: str) -> set[str]:
    """The modules `start` reaches through one import or more (itself only if it is on a circle)."""
    seen: set[str] = set()
    todo = list(graph.get(start, ()))
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(graph.get(node, ()))
    return seen


def circles(edges: Sequence[Import]) -> list[str]:
    """Describe each import circle (a strongly connected component of 2+ modules) with the imports inside it."""
    graph: dict[str, set[str]] = {}
    for edge in edges:
        graph.setdefault(edge.source, set()).add(edge.target)
    reach = {node: _reachable(graph, node) for node in graph}
    components = {frozenset({n} | {m for m in reach[n] if n in reach.get(m, ())}) for n in graph if n in reach[n]}
    found = []
    for component in sorted(sorted(c) for c in components):
        inside = sorted((e for e in edges if e.source in component and e.target in component),
                        key=lambda e: (e.source, e.target, e.line))  # fmt: skip
        found.append(" <-> ".join(component) + ": " + ", ".join(
            f"{e.source} -> {e.target} ({e.path}:{e.line})" for e in inside))  # fmt: skip
    return found


def _definitions(body: Sequence[ast.stmt], prefix: str, where: str) -> Iterator[Definition]:
    for node in body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            name = prefix + node.name
            kind = "class" if isinstance(node, ast.ClassDef) else "function"
            yield Definition(kind, name, where, node.lineno, node.end_lineno - node.lineno + 1)
            yield from _definitions(node.body, name + ".", where)
        elif hasattr(node, "body"):  # definitions under if/try/with/for blocks (an except clause has a body too)
            for block in ("body", "orelse", "finalbody", "handlers"):
                yield from _definitions(getattr(node, block, []), prefix, where)


def long_definitions(root: Path = ROOT, packages: Sequence[str] = PACKAGES, function_lines: int = FUNCTION_LINES,
                     class_lines: int = CLASS_LINES) -> list[Definition]:  # fmt: skip
    """Return the functions longer than `function_lines` and the classes longer than `class_lines`, longest first."""
    found = []
    for path in modules(root, packages).values():
        where = str(path.relative_to(root))
        for d in _definitions(ast.parse(path.read_text(encoding="utf-8"), where).body, "", where):
            if d.lines > (class_lines if d.kind == "class" else function_lines):
                found.append(d)
    return sorted(found, key=lambda d: (d.kind, -d.lines, d.path, d.line))


def main() -> int:
    """Print the yardstick report; it never fails (tests/test_layers.py is the check on circles)."""
    longest = long_definitions()
    for kind, plural, limit in (("function", "functions", FUNCTION_LINES), ("class", "classes", CLASS_LINES)):
        rows = [d for d in longest if d.kind == kind]
        print(f"{plural} over {limit} lines in {' and '.join(p + '/' for p in PACKAGES)}: {len(rows)}")
        for d in rows:
            print(f"  {d.lines:5d}  {d.path}:{d.line}  {d.name}")
    found = circles(import_graph())
    print(f"import circles (imports inside functions count): {len(found)}")
    for circle in found:
        print(f"  {circle}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
