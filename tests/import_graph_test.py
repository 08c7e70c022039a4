"""The import graph: no cycle between `keras_svq` subpackages and `zoo`.

`zoo` builds on `keras_svq` (layers, quantizers, io_utils); `keras_svq`
reaches the zoo only inside functions (a config's backbone lookup, a test
helper that builds a model) and in `keras_svq/__init__.py`, whose
`importlib.import_module("zoo")` registers the zoo's classes for
deserialisation. A module-level `import zoo` anywhere else in `keras_svq`,
or a module-level import of `keras_svq.training` in `zoo`, would close a
cycle such as zoo -> keras_svq.training -> zoo.

The graph is recorded, not parsed: a fresh interpreter wraps
`builtins.__import__`, imports every first-party module, and notes each
import statement that runs with the importing module's name. Only
module-level code runs when a module is imported, so lazy imports inside
functions are rightly absent, and so is `importlib.import_module` (the
registration above). Every module body runs once whatever the order, so one
process gives the whole graph.
"""

import json
import os
import pathlib
import textwrap

import pytest

from keras_svq.testing.processes import run_python

ROOT = pathlib.Path(__file__).resolve().parents[1]

_RECORD = textwrap.dedent(
    """
    import builtins, importlib, json, pkgutil, sys

    FIRST_PARTY = ("keras_svq", "zoo")
    edges = set()
    original = builtins.__import__

    def first_party(name):
        return name.split(".")[0] in FIRST_PARTY

    def recording_import(name, globals=None, locals=None, fromlist=(), level=0):
        module = original(name, globals, locals, fromlist, level)
        importer = (globals or {}).get("__name__")
        if importer is None or not first_party(importer):
            return module
        if level:
            package = (globals or {}).get("__package__") or importer
            base = package.rsplit(".", level - 1)[0] if level > 1 else package
            name = f"{base}.{name}" if name else base
        if not first_party(name):
            return module
        targets = [
            f"{name}.{item}"
            for item in fromlist or ()
            if f"{name}.{item}" in sys.modules
        ]
        for target in targets or [name]:
            edges.add((importer, target))
        return module

    builtins.__import__ = recording_import
    failed = {}
    for top in FIRST_PARTY:
        package = importlib.import_module(top)
        for info in pkgutil.walk_packages(package.__path__, top + "."):
            if info.name.endswith("_test") or ".testdata" in info.name:
                continue
            try:
                importlib.import_module(info.name)
            except Exception as e:  # an optional third-party dependency
                failed[info.name] = f"{type(e).__name__}: {e}"
    print("EDGES" + json.dumps({"edges": sorted(edges), "failed": failed}))
    """
)

_ZOO_ALONE = textwrap.dedent(
    """
    import json, sys

    import zoo
    after_zoo = sorted(sys.modules)
    import zoo.presets
    after_presets = sorted(sys.modules)
    print("MODULES" + json.dumps({"zoo": after_zoo, "zoo.presets": after_presets}))
    """
)


def _run(script, marker):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    stdout = run_python(script, env=env, cwd=ROOT)
    line = next(line for line in stdout.splitlines() if line.startswith(marker))
    return json.loads(line[len(marker) :])


def node(module):
    """The graph node of a module: `zoo`, or `keras_svq.<subpackage or module>`."""
    parts = module.split(".")
    if parts[0] == "zoo":
        return "zoo"
    return ".".join(parts[:2])


def strongly_connected(graph):
    """Tarjan's strongly connected components of `{node: set(successors)}`."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return components


def _graph(edges):
    graph = {}
    for importer, target in edges:
        a, b = node(importer), node(target)
        if a != b:
            graph.setdefault(a, set()).add(b)
            graph.setdefault(b, set())
    return graph


def _witnesses(edges, component):
    """The module-level import statements that make up a cycle, for the message."""
    return sorted(
        f"{importer} -> {target}"
        for importer, target in edges
        if node(importer) in component
        and node(target) in component
        and node(importer) != node(target)
    )


@pytest.fixture(scope="module")
def recorded():
    return _run(_RECORD, "EDGES")


def test_no_cycle_between_keras_svq_and_zoo(recorded):
    edges = [tuple(edge) for edge in recorded["edges"]]
    graph = _graph(edges)
    # The recording saw the packages it should have.
    assert {"zoo", "keras_svq.layers", "keras_svq.training"} <= set(graph)
    assert "keras_svq.layers" in graph["zoo"]
    cycles = [
        component
        for component in strongly_connected(graph)
        if len(component) > 1 and "zoo" in component
    ]
    assert not cycles, "Import cycles through zoo:\n" + "\n".join(
        "\n".join(_witnesses(edges, component)) for component in cycles
    )


def test_keras_svq_imports_zoo_only_to_register(recorded):
    # `keras_svq/__init__.py` reaches zoo through importlib (not recorded);
    # no other keras_svq module imports it at module level.
    importers = sorted(
        importer
        for importer, target in map(tuple, recorded["edges"])
        if node(target) == "zoo" and node(importer) != "zoo"
    )
    assert importers == []


def test_import_zoo_leaves_training_out():
    modules = _run(_ZOO_ALONE, "MODULES")
    for name in ("zoo", "zoo.presets"):
        training = [m for m in modules[name] if m.startswith("keras_svq.training")]
        assert training == [], f"import {name} imported {training}"


def test_tarjan_finds_a_planted_cycle():
    edges = [
        ("zoo.presets", "keras_svq.training.config"),
        ("keras_svq.training.config", "zoo.registry"),
        ("zoo.backbone", "keras_svq.layers"),
    ]
    graph = _graph(edges)
    components = [c for c in strongly_connected(graph) if len(c) > 1]
    assert components == [{"zoo", "keras_svq.training"}]
    assert _witnesses(edges, components[0]) == [
        "keras_svq.training.config -> zoo.registry",
        "zoo.presets -> keras_svq.training.config",
    ]
