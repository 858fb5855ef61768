"""The rules of book/architecture.md: layers, no import cycles, module size, no ML framework below the
learning layer, no side effects at import, and ruff's lint and format."""

import ast
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "gslib"
PAGE = ROOT / "book" / "architecture.md"
MAX_LINES = 800
ML_FRAMEWORKS = ("tensorflow", "keras", "jax", "jaxlib", "torch")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {module_name(p): p for p in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in p.parts}


def is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def resolve(name: str) -> str | None:
    """The gslib module that an import of ``name`` loads (the module, else the package holding it)."""
    while name:
        if name in MODULES:
            return name
        name = name.rpartition(".")[0]
    return None


def imports_of(name: str) -> list[tuple[str, int]]:
    """Every gslib module that ``name`` imports, anywhere in the file (functions included), with the line."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    here = name if is_package(name) else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "gslib" or alias.name.startswith("gslib."):
                    found.append((resolve(alias.name), node.lineno))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = here.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not (target == "gslib" or target.startswith("gslib.")):
                continue
            for alias in node.names:  # `from . import x` may name a submodule
                sub = f"{target}.{alias.name}"
                found.append((sub if sub in MODULES else resolve(target), node.lineno))
    return [(t, line) for t, line in found if t and t != name]


def external_imports(name: str) -> list[tuple[str, int]]:
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(a.name.split(".")[0], node.lineno) for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            out.append((node.module.split(".")[0], node.lineno))
    return out


def layers_of_page() -> dict[str, int]:
    """Module prefix -> layer number, from the table of book/architecture.md."""
    layers = {}
    for line in PAGE.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\|\s*(\d+) [^|]+\|([^|]+)\|", line)
        if match:
            for prefix in re.findall(r"`(gslib[\w.]*)`", match.group(2)):
                layers[prefix] = int(match.group(1))
    return layers


LAYERS = layers_of_page()


def layer(name: str) -> int | None:
    if name == "gslib":
        return LAYERS.get("gslib")
    best = None
    for prefix, number in LAYERS.items():
        if prefix != "gslib" and (name == prefix or name.startswith(prefix + ".")):
            if best is None or len(prefix) > len(best[0]):
                best = (prefix, number)
    return best[1] if best else None


GRAPH = {name: imports_of(name) for name in MODULES}


def test_the_page_has_every_layer():
    assert sorted(set(LAYERS.values())) == list(range(6)), LAYERS


def test_every_module_has_a_layer():
    missing = [name for name in MODULES if layer(name) is None]
    assert not missing, f"modules not in the table of book/architecture.md: {missing}"


def test_no_module_imports_a_higher_layer():
    bad = [
        f"{name} (layer {layer(name)}) imports {target} (layer {layer(target)}) at line {line}"
        for name, targets in GRAPH.items()
        for target, line in targets
        if layer(target) is not None
        and layer(name) is not None
        and layer(target) > layer(name)
        # a package's __init__ may re-export its own submodules
        and not target.startswith(name + ".")
    ]
    assert not bad, "\n".join(bad)


def strongly_connected(graph: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm (iterative): the components with more than one module."""
    index, low, on_stack, stack, out, counter = {}, {}, set(), [], [], [0]
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(graph[root]))]
        index[root] = low[root] = counter[0]
        counter[0] += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter[0]
                    counter[0] += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(graph[child])))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1:
                        out.append(sorted(component))
    return out


def test_strongly_connected_finds_a_planted_cycle():
    graph = {"a": ["b"], "b": ["c"], "c": ["a"], "d": ["a"], "e": []}
    assert strongly_connected(graph) == [["a", "b", "c"]]
    assert strongly_connected({"a": ["b"], "b": []}) == []


def test_no_import_cycles():
    """No cycle, counting imports inside functions; a package importing its own submodules is not one."""
    graph = {
        name: sorted({t for t, _ in targets if not (is_package(name) and t.startswith(name + "."))})
        for name, targets in GRAPH.items()
    }
    assert strongly_connected(graph) == []


@pytest.mark.parametrize("name", sorted(MODULES))
def test_module_size(name):
    lines = len(MODULES[name].read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{name} has {lines} lines (> {MAX_LINES}): split it (book/architecture.md)"


def test_no_ml_framework_below_the_learning_layer():
    bad = [
        f"{name} imports {module} at line {line}"
        for name in MODULES
        if name != "gslib._optional" and (layer(name) or 0) < 3
        for module, line in external_imports(name)
        if module in ML_FRAMEWORKS
    ]
    assert not bad, "\n".join(bad)


def run_python(code: str) -> dict:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_the_engine_loads_no_ml_framework():
    engine = [name for name in MODULES if (layer(name) or 0) < 3 and name != "gslib._optional"]
    found = run_python(
        "import importlib, json, sys\n"
        f"for name in {engine!r}: importlib.import_module(name)\n"
        f"print(json.dumps(sorted(m for m in {ML_FRAMEWORKS!r} if m in sys.modules)))"
    )
    assert found == []


def test_importing_gslib_has_no_side_effects():
    """Importing every module changes no environment variable, seeds no generator and prints nothing.

    Keras is imported first, through gslib._optional (the one place that chooses its backend): what Keras
    and its framework do to the environment when they load is theirs, not gslib's.
    """
    modules = sorted(MODULES)
    code = (
        "import contextlib, importlib, io, json, os, random, sys\n"
        "import numpy as np\n"
        "from gslib._optional import import_keras\n"
        "import_keras()\n"
        "env = dict(os.environ); state = np.random.get_state()[1].copy(); pystate = random.getstate()\n"
        "buffer = io.StringIO(); failed = {}\n"
        "with contextlib.redirect_stdout(buffer):\n"
        f"    for name in {modules!r}:\n"
        "        try: importlib.import_module(name)\n"
        "        except ImportError as err: failed[name] = str(err)\n"
        "changed = sorted(k for k in set(env) | set(os.environ) if env.get(k) != os.environ.get(k))\n"
        "print(json.dumps({'env': changed, 'numpy_seeded': bool((np.random.get_state()[1] != state).any()),\n"
        "                  'random_seeded': random.getstate() != pystate, 'printed': buffer.getvalue(),\n"
        "                  'failed': failed}))"
    )
    result = run_python(code)
    assert result["failed"] == {}
    assert result["env"] == []
    assert not result["numpy_seeded"] and not result["random_seeded"]
    assert result["printed"] == ""


def test_library_reads_the_scale_only_in_the_book_layers():
    """GSLIB_SCALE is read through gslib.scale, by the command line, the book's helpers and its build extension only."""
    allowed = {"gslib.scale", "gslib.notebook", "gslib.sphinxext"}
    bad = [
        f"{name} imports gslib.scale at line {line}"
        for name, targets in GRAPH.items()
        if name not in allowed and not name.startswith("gslib.cli")
        for target, line in targets
        if target == "gslib.scale"
    ]
    for name, path in MODULES.items():
        if name in allowed:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value == "GSLIB_SCALE":
                bad.append(f"{name} reads the variable at line {node.lineno}")
    assert not bad, "\n".join(bad)


RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


@pytest.mark.parametrize("command", [["check"], ["format", "--check"]], ids=["lint", "format"])
def test_ruff(command):
    assert RUFF, "ruff is not installed: pip install -e '.[dev]'"
    out = subprocess.run([RUFF, *command, "gslib", "tests"], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, (out.stdout + out.stderr)[-4000:]
