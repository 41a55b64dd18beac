"""The shape of the code base: the DAG is visible in the package tree, the import graph has no
cycle (function-local imports and package-level ties included), scripts stay thin, and
inference never imports the trainer."""

import ast
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "pose_animate"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def modules() -> dict[str, Path]:
    return {module_name(p): p for p in PACKAGE.rglob("*.py")}


def imports_of(path: Path, known: set[str]) -> set[str]:
    """Every pose_animate module `path` imports, at any depth of its code (functions too)."""
    name = module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        targets = []
        if isinstance(node, ast.Import):
            targets = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # `from pkg import submodule` imports the submodule
            targets = [f"{source}.{a.name}" if f"{source}.{a.name}" in known else source
                       for a in node.names]
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target.startswith("pose_animate") and target != name:
                found.add(target)
    return found


def graph() -> dict[str, set[str]]:
    mods = modules()
    return {name: imports_of(path, set(mods)) for name, path in mods.items()}


def find_cycle(edges: dict[str, set[str]]):
    state, stack = {}, []

    def visit(node):
        state[node] = "open"
        stack.append(node)
        for nxt in sorted(edges.get(node, ())):
            if state.get(nxt) == "open":
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state:
                cycle = visit(nxt)
                if cycle:
                    return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(edges):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_module_import_graph_has_no_cycle():
    assert find_cycle(graph()) is None


def test_package_import_graph_has_no_cycle():
    """Top-level packages (core, frames, keypoints, ...) depend on each other as a DAG."""
    def top(name):
        parts = name.split(".")
        return ".".join(parts[:2])

    edges = {}
    for source, targets in graph().items():
        edges.setdefault(top(source), set()).update(
            top(t) for t in targets if top(t) != top(source))
    assert find_cycle(edges) is None


def test_core_depends_on_no_stage():
    for source, targets in graph().items():
        if source.startswith("pose_animate.core"):
            assert all(t.startswith("pose_animate.core") for t in targets), (source, targets)


def test_package_has_few_top_level_entries():
    entries = [p for p in PACKAGE.iterdir() if p.name != "__pycache__"]
    assert len(entries) <= 14, sorted(p.name for p in entries)


def test_workflow_scripts_stay_thin():
    for script in (REPO / "workflow" / "scripts").glob("*.py"):
        lines = script.read_text().splitlines()
        assert len(lines) <= 25, f"{script.name}: {len(lines)} lines"


def test_inference_imports_nothing_of_the_trainer():
    """render and evaluate rebuild a model from its checkpoint: the family's model module and
    the checkpoint module, never the training engine or a family's training step."""
    edges = graph()

    def reachable(start):
        seen, todo = set(), [start]
        while todo:
            for nxt in edges.get(todo.pop(), ()):
                if nxt not in seen:
                    seen.add(nxt)
                    todo.append(nxt)
        return seen

    for module in ("pose_animate.renderers.render", "pose_animate.renderers.evaluate"):
        assert module in edges, module
        trainer = {m for m in reachable(module)
                   if m == "pose_animate.renderers.engine" or m.endswith(".train")}
        assert not trainer, (module, trainer)
