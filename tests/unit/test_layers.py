"""Imports run one way: a module imports only from its own layer or below, and no parts form a cycle.

Imports inside functions count (they hide cycles as well as they speed start-up); ``if TYPE_CHECKING:``
blocks do not (they never run). The order is the one docs/architecture.md states.
"""

from __future__ import annotations

import ast
import itertools
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "geckolake"
ARCHITECTURE = Path(__file__).resolve().parents[2] / "docs" / "architecture.md"

# Bottom first. Parts in one layer may import each other, but not in a cycle.
LAYERS: list[tuple[str, ...]] = [
    ("errors", "version"),
    ("api", "simulator"),
    ("config", "secrets"),
    ("lake",),
    ("transform",),
    ("analytics", "quality"),
    ("ops",),
    ("ingest",),
    ("flows",),
    ("cli", "dashboard", "deploy", "__init__"),
]
RANK = {part: i for i, layer in enumerate(LAYERS) for part in layer}


def _part(module: str) -> str | None:
    bits = module.split(".")
    if bits[0] != "geckolake":
        return None
    return bits[1] if len(bits) > 1 else "__init__"


def _module_name(path: Path) -> list[str]:
    bits = ["geckolake", *path.relative_to(PACKAGE).with_suffix("").parts]
    return bits[:-1] if bits[-1] == "__init__" else bits


class _Imports(ast.NodeVisitor):
    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[tuple[str, int]] = []  # (module, line)

    def visit_If(self, node: ast.If) -> None:
        if "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.orelse:
                self.visit(child)
            return
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        self.found += [(alias.name, node.lineno) for alias in node.names]

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if node.level:
            package = _module_name(self.path) if self.path.name == "__init__.py" else _module_name(self.path)[:-1]
            base = package[: len(package) - node.level + 1]
            module = ".".join([*base, *([node.module] if node.module else [])])
        else:
            module = node.module or ""
        self.found.append((module, node.lineno))


def part_imports(root: Path = PACKAGE) -> list[tuple[str, str, str]]:
    """Every import from one part to another: (from part, to part, "file:line module")."""
    edges = []
    for path in sorted(root.rglob("*.py")):
        rel = path.relative_to(root)
        own = rel.parts[0].removesuffix(".py")
        visitor = _Imports(path)
        visitor.visit(ast.parse(path.read_text(), filename=str(path)))
        for module, line in visitor.found:
            target = _part(module)
            if target is not None and target != own:
                edges.append((own, target, f"{rel}:{line} imports {module}"))
    return edges


def upward(edges: list[tuple[str, str, str]]) -> list[str]:
    return [where for src, dst, where in edges if RANK[dst] > RANK[src]]


def cycles(edges: list[tuple[str, str, str]]) -> list[tuple[str, str]]:
    pairs = {(src, dst) for src, dst, _ in edges}
    reach = {p: {d for s, d in pairs if s == p} for p in RANK}
    for _ in RANK:  # transitive closure, small graph
        for p in RANK:
            reach[p] |= set(itertools.chain.from_iterable(reach[q] for q in reach[p]))
    return sorted((a, b) for a in RANK for b in reach[a] if a < b and a in reach[b])


def test_every_part_has_a_layer() -> None:
    parts = {p.name.removesuffix(".py") for p in PACKAGE.iterdir() if p.suffix == ".py" or (p / "__init__.py").exists()}
    assert parts == set(RANK), "add new top-level modules to LAYERS and docs/architecture.md"


def test_imports_point_down_the_layers() -> None:
    assert upward(part_imports()) == []


def test_no_cycles_between_parts() -> None:
    assert cycles(part_imports()) == []


def test_the_order_is_the_documented_one() -> None:
    stated = " → ".join(", ".join(f"`{p}`" for p in layer if p != "__init__") for layer in LAYERS)
    assert stated in ARCHITECTURE.read_text()


def test_an_upward_import_inside_a_function_is_caught(tmp_path: Path) -> None:
    pkg = tmp_path / "geckolake"
    (pkg / "lake").mkdir(parents=True)
    (pkg / "flows").mkdir()
    (pkg / "lake" / "catalog.py").write_text("def f():\n    from geckolake.flows import run\n")
    (pkg / "flows" / "__init__.py").write_text("from geckolake.lake.catalog import f\n")
    (pkg / "lake" / "typed.py").write_text(
        "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from geckolake.cli import app\n"
    )
    edges = part_imports(pkg)
    assert upward(edges) == ["lake/catalog.py:2 imports geckolake.flows"]
    assert cycles(edges) == [("flows", "lake")]


@pytest.mark.parametrize("layer", LAYERS)
def test_layers_name_real_parts(layer: tuple[str, ...]) -> None:
    for part in layer:
        assert part == "__init__" or (PACKAGE / part).exists() or (PACKAGE / f"{part}.py").exists()
