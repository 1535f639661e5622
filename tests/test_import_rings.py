"""No import ring between modules of models/, engine/ and tui/, imports inside
functions included (issue 9: "an import graph … has no cycles").

import-linter's ``acyclic_siblings`` contract checks the packages of a floor against
each other; this checks module against module, with grimp (the graph import-linter
builds), so a ring inside one package — a package ``__init__`` that imports its
submodules while they import it back, as ``tui/cli`` once did — fails too.
"""
from __future__ import annotations

import grimp

LAYERS = ("models", "engine", "tui")


def rings(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (iterative Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            v, children = work[-1]
            for w in children:
                if w not in index:
                    index[w] = low[w] = len(index)
                    stack.append(w)
                    on_stack.add(w)
                    work.append((w, iter(sorted(graph[w]))))
                    break
                if w in on_stack:
                    low[v] = min(low[v], index[w])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[v])
                if low[v] == index[v]:
                    component = []
                    while True:
                        w = stack.pop()
                        on_stack.discard(w)
                        component.append(w)
                        if w == v:
                            break
                    if len(component) > 1:
                        found.append(sorted(component))
    return found


def test_the_ring_finder_finds_rings():
    assert rings({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert rings({"a": {"b"}, "b": set()}) == []


def test_no_import_ring_between_modules_even_through_late_imports():
    g = grimp.build_graph(*LAYERS, cache_dir=None)
    ours = {m for m in g.modules if m.split(".")[0] in LAYERS}
    graph = {m: {x for x in g.find_modules_directly_imported_by(m) if x in ours} - {m} for m in ours}
    assert "tui.commandline.common" in graph["tui.commandline.engine_cmd"]  # the graph sees the imports
    assert rings(graph) == []


def test_the_cli_facade_is_outside_the_commands_package():
    """Importing a submodule imports its package first (pydeps draws that edge too), so
    a package whose ``__init__`` imports its own submodules is a ring as soon as one of
    them imports a sibling. The commands live in tui.commandline, whose ``__init__``
    imports nothing; tui.cli (the entry point, ``rota = "tui.cli:main"``) imports them,
    and nothing imports tui.cli back."""
    g = grimp.build_graph("tui", cache_dir=None)
    assert g.find_modules_directly_imported_by("tui.commandline") == set()
    assert g.find_modules_directly_imported_by("tui.cli") == {"tui.commandline.entry"}
    assert g.find_modules_that_directly_import("tui.cli") <= {"tui.cli.__main__"}
