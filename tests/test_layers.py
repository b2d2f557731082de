"""The layers of ``analyzer/`` stay layered: no module imports a layer above its own.

measure ← protocol ← history ← present ← cli (and the UI, outside ``analyzer/``). Each
package's ``__init__`` says the same in words; this test reads every module's imports from
its syntax tree (lazy imports inside functions included) and fails on any that reaches up.
"""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "analyzer"

#: What each part of ``analyzer`` may import of ``analyzer``. ``root`` is the package's own
#: ``__init__`` (the public API and ``__version__``), which re-exports ``measure``.
ALLOWED: dict[str, set[str]] = {
    "errors": set(),
    "measure": {"errors", "measure"},
    "root": {"errors", "measure"},
    "protocol": {"errors", "measure", "protocol"},
    "capture": {"errors", "measure", "capture"},
    "video": {"errors", "measure", "protocol", "capture", "video"},
    "history": {"errors", "root", "measure", "protocol", "capture", "video", "history"},
    "present": {"errors", "root", "measure", "protocol", "capture", "video", "history", "present"},
    "cli": {
        "errors",
        "root",
        "measure",
        "protocol",
        "capture",
        "video",
        "history",
        "present",
        "cli",
    },
}
LAYERS = ("measure", "protocol", "history", "present")
#: Packages beside the layers (live capture, video), each with the imports it may make.
BESIDE = ("capture", "video")


def part_of(module: str) -> str:
    """The part that a dotted module name of ours belongs to: a layer, errors, root or cli."""
    parts = module.split(".")
    if parts == ["analyzer"]:
        return "root"
    second = parts[1]
    if second in LAYERS or second in BESIDE:
        return second
    if second == "errors":
        return "errors"
    return "cli"  # cli, __main__


def module_name(path: Path) -> str:
    relative = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(relative.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool) -> list[tuple[int, str]]:
    """Every ``analyzer`` module that ``source`` imports, as (line, dotted name).

    ``from analyzer.history import statistics`` names ``analyzer.history.statistics``;
    ``from analyzer import __version__`` names ``analyzer``; relative imports are resolved
    against ``module``.
    """
    found = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                is_module = (PACKAGE.parent / candidate.replace(".", "/")).with_suffix(
                    ".py"
                ).exists() or (PACKAGE.parent / candidate.replace(".", "/")).is_dir()
                found.append((node.lineno, candidate if is_module else base))
    return [(line, name) for line, name in found if name.split(".")[0] == "analyzer"]


def imports_of_ours(source: str, module: str, is_package: bool) -> set[str]:
    """The modules of ``analyzer`` and ``ui`` that ``source`` imports, anywhere in it (inside
    functions too): the edges of the import graph."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            found |= {name for _, name in imported_modules(ast.unparse(node), module, is_package)}
            if not node.level and (node.module or "").split(".")[0] == "ui":
                for alias in node.names:
                    candidate = f"{node.module}.{alias.name}"
                    path = PACKAGE.parent / candidate.replace(".", "/")
                    is_module = path.with_suffix(".py").exists() or path.is_dir()
                    found.add(candidate if is_module else node.module or "")
    return {name for name in found if name.split(".")[0] in ("analyzer", "ui")}


def import_graph(sources: dict[str, tuple[str, bool]]) -> dict[str, set[str]]:
    """Module → the modules of ours it imports, for ``sources`` (module → text, is package)."""
    return {
        module: imports_of_ours(text, module, is_package) & set(sources)
        for module, (text, is_package) in sources.items()
    }


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan), and modules that
    import themselves: each is an import circle."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    cycles = []

    def visit(module: str) -> None:
        index[module] = low[module] = len(index)
        stack.append(module)
        for target in sorted(graph[module]):
            if target not in index:
                visit(target)
                low[module] = min(low[module], low[target])
            elif target in stack:
                low[module] = min(low[module], index[target])
        if low[module] == index[module]:
            group = []
            while True:
                member = stack.pop()
                group.append(member)
                if member == module:
                    break
            if len(group) > 1 or module in graph[module]:
                cycles.append(sorted(group))

    for module in sorted(graph):
        if module not in index:
            visit(module)
    return cycles


def violations(source: str, module: str, is_package: bool = False) -> list[str]:
    """Imports in ``source`` (the text of ``module``) that reach a part it may not import."""
    own = part_of(module)
    bad = []
    for line, target in imported_modules(source, module, is_package):
        if part_of(target) not in ALLOWED[own]:
            bad.append(f"{module}:{line} imports {target} ({own} may not import {part_of(target)})")
    return bad


def all_modules() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "versions" not in p.parts)


def our_sources() -> dict[str, tuple[str, bool]]:
    """Every module of ``analyzer`` and ``ui`` (and ``app``), by dotted name."""
    root = PACKAGE.parent
    paths = [*all_modules(), *sorted((root / "ui").rglob("*.py")), root / "app.py"]
    return {
        ".".join(p.relative_to(root).with_suffix("").parts).removesuffix(".__init__"): (
            p.read_text(),
            p.name == "__init__.py",
        )
        for p in paths
    }


def test_the_module_import_graph_has_no_cycle():
    """No circle of imports among our modules, imports inside functions included: each
    module can be read (and loaded) after the ones it uses."""
    assert import_cycles(import_graph(our_sources())) == []


@pytest.mark.parametrize(
    "path",
    [*sorted((PACKAGE.parent / "ui").rglob("*.py")), PACKAGE.parent / "app.py"],
    ids=lambda p: str(p.relative_to(PACKAGE.parent)),
)
def test_the_dashboard_asks_the_history_and_writes_no_query(path):
    """Pages call ``analyzer.history.service`` (and the history's functions); none imports
    SQLAlchemy, so none can build a query of its own."""
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        for name in names:
            assert name.split(".")[0] != "sqlalchemy", f"{path}:{node.lineno} imports {name}"


def test_the_cycle_finder_catches_a_circle_through_a_function_level_import():
    sources = {
        "analyzer.history.storage": ("from analyzer.history.models import Capture\n", False),
        "analyzer.history.models": ("def f():\n    from analyzer.history import audit\n", False),
        "analyzer.history.audit": ("import analyzer.history.storage\n", False),
        "ui.state": ("from ui.auth import opened\n", False),
        "ui.auth": ("def g():\n    from ui.state import database\n", False),
        "ui.common": ("import streamlit\n", False),
    }
    assert import_cycles(import_graph(sources)) == [
        ["analyzer.history.audit", "analyzer.history.models", "analyzer.history.storage"],
        ["ui.auth", "ui.state"],
    ]
    sources["ui.auth"] = ("from ui.common import database\n", False)
    assert len(import_cycles(import_graph(sources))) == 1


def test_every_layer_is_a_package_with_a_docstring_naming_what_it_may_import():
    for layer in (*LAYERS, *BESIDE):
        init = PACKAGE / layer / "__init__.py"
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and "May import" in doc, layer


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_imports_a_higher_layer(path):
    source = path.read_text()
    assert violations(source, module_name(path), path.name == "__init__.py") == []


@pytest.mark.parametrize("path", all_modules(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_of_the_analyzer_imports_the_ui(path):
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level:
            names = [node.module or ""]
        for name in names:
            assert name.split(".")[0] not in {"streamlit", "ui"}, f"{path}: {name}"


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("analyzer.measure.clinical", "from analyzer.history.storage import Capture"),
        ("analyzer.measure.frame", "def f():\n    from analyzer.protocol import movement\n"),
        ("analyzer.protocol.tracking", "import analyzer.present.visuals"),
        ("analyzer.history.storage", "from ..present import report"),
        ("analyzer.present.demo", "from analyzer import cli"),
        ("analyzer.video.segments", "from analyzer.history import storage"),
        ("analyzer.measure.scale", "from analyzer import __version__"),
    ],
)
def test_the_checker_catches_an_import_that_reaches_up(module, source):
    assert len(violations(source, module)) == 1


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("analyzer.measure.clinical", "from analyzer.measure import topology"),
        ("analyzer.measure.clinical", "from . import topology\nfrom ..errors import NoFaceError"),
        ("analyzer.history.progress", "from analyzer.protocol import movement"),
        ("analyzer.history.importer", "from analyzer import __version__"),
        ("analyzer.cli", "from analyzer.present.report import write_report"),
    ],
)
def test_the_checker_lets_downward_imports_pass(module, source):
    assert violations(source, module) == []


#: The longest module, and the longest function that needs no reason written at its top.
MAX_MODULE_LINES, MAX_FUNCTION_LINES = 600, 60


def size_problems(source: str, name: str) -> list[str]:
    """A module over ``MAX_MODULE_LINES``, or a function over ``MAX_FUNCTION_LINES`` without
    "Over 60 lines on purpose: <reason>" in the comment right after its docstring."""
    lines = source.splitlines()
    problems = [f"{name}: {len(lines)} lines"] if len(lines) > MAX_MODULE_LINES else []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        if node.end_lineno - node.lineno + 1 <= MAX_FUNCTION_LINES:
            continue
        first = node.body[0]
        if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
            head = "\n".join(lines[first.end_lineno : first.end_lineno + 2])  # after the doc
        else:  # the comment lines just above the first statement
            head = "\n".join(lines[max(node.lineno, first.lineno - 5) : first.lineno])
        if "Over 60 lines on purpose:" not in head:
            problems.append(f"{name}: {node.name} ({node.end_lineno - node.lineno + 1} lines)")
    return problems


def test_no_module_over_600_lines_and_no_long_function_without_its_reason():
    sources = [*all_modules(), *PACKAGE.parent.joinpath("ui").rglob("*.py")]
    problems = [p for path in sources for p in size_problems(path.read_text(), path.name)]
    assert problems == []


def test_the_size_check_catches_a_long_function_and_lets_a_reasoned_one_pass():
    body = "".join(f"    x{i} = {i}\n" for i in range(70))
    assert size_problems(f"def f():\n    '''Doc.'''\n{body}", "m") == ["m: f (72 lines)"]
    reasoned = "    # Over 60 lines on purpose: a table of seventy assignments.\n"
    assert size_problems(f"def f():\n    '''Doc.'''\n{reasoned}{body}", "m") == []
    assert size_problems("x = 1\n" * 601, "m") == ["m: 601 lines"]
