"""The package's shape: no module imports itself back through others (the layers between
packages are checked by `lint-imports`, whose contracts are in pyproject.toml)."""

from __future__ import annotations

import grimp


def import_cycles(package: str) -> list[list[str]]:
    """Every strongly connected group of two or more modules in the package's import graph
    (imports inside functions and under TYPE_CHECKING count: a lazy import hides a cycle, it does not remove it)."""
    graph = grimp.build_graph(package, cache_dir=None)
    edges = {m: sorted(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    cycles: list[list[str]] = []

    def visit(module: str) -> None:  # Tarjan's algorithm
        order[module] = low[module] = len(order)
        stack.append(module)
        on_stack.add(module)
        for imported in edges.get(module, []):
            if imported not in order:
                visit(imported)
                low[module] = min(low[module], low[imported])
            elif imported in on_stack:
                low[module] = min(low[module], order[imported])
        if low[module] == order[module]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == module:
                    break
            if len(group) > 1:
                cycles.append(sorted(group))

    for module in sorted(edges):
        if module not in order:
            visit(module)
    return cycles


def test_no_module_imports_itself_back() -> None:
    assert import_cycles("rapportsok") == []


def test_a_cycle_is_found_where_there_is_one(tmp_path, monkeypatch) -> None:
    """The check itself: two modules that import each other (one lazily) are reported."""
    package = tmp_path / "circular"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "a.py").write_text("from . import b\n")
    (package / "b.py").write_text("def f():\n    from . import a\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert import_cycles("circular") == [["circular.a", "circular.b"]]
