"""The import rules of docs/ARCHITECTURE.md, held by a test.

The checker reads the source (``ast``, nothing is imported) into a graph of modules and
their imports, then holds four kinds of rule: which packages a package may import, which
parts of a package must not import which others (the judge never imports the candidate),
where pandas and rich may be imported, and no import cycles between modules.  The last
tests run the same checker on a small package written to a temporary directory, to show
that each rule fails when broken.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("shadowdns", "resolver", "harness", "legacy_adapter", "deckard", "reports", "lab",
            "netpolicy", "configfiles")
BOTTOM = {"netpolicy", "configfiles"}  # every package may import these
ALLOWED = {
    "netpolicy": set(),  # the address policy: a leaf
    "configfiles": {"netpolicy"},  # ConfigError, YAML, root hints: addresses by the policy
    "resolver": BOTTOM,
    "lab": BOTTOM,
    "legacy_adapter": BOTTOM,
    "deckard": {"resolver", "legacy_adapter"} | BOTTOM,  # --reference unbound|kresd
    "harness": {"resolver", "legacy_adapter", "lab"} | BOTTOM,
    "reports": {"harness"} | BOTTOM,
    "shadowdns": set(PACKAGES),
}
FORBIDDEN = (
    # The judge shares nothing with the candidate: a bug in the candidate's code must show as
    # a divergence, not be repeated by the code that judges it.
    ("harness.differ", "resolver"),
    ("harness.wirewalk", "resolver"),
    ("reports", "resolver"),
    # The verdict's evidence record is shared by the judge, the store and the reports: it
    # holds no judging logic, so reading it never imports the judge.
    ("harness.evidence", "harness.differ"),
    # The recursor is pure iteration: the exchanger seam is all it knows of the network.
    ("resolver.recursor", "resolver.conductor"),
    ("resolver.recursor", "resolver.server"),
    # The DNSSEC wing is pure logic around the recursor: no sockets, servers or processes.
    ("resolver.dnssec", "resolver.conductor"),
    ("resolver.dnssec", "resolver.server"),
    ("resolver.dnssec", "resolver.workers"),
)
PANDAS = ("reports",)  # pandas is heavy to import: the report's tables only
RICH = (
    # rich draws for people: the command lines, the reports, the harness's live view and
    # Deckard's report; never the resolver, the lab's servers or the judge's logic.
    "reports",
    "shadowdns",
    "harness.live",
    "harness.cli",
    "deckard.report",
    "deckard.cli",
    "lab.cli",
    "resolver.cli",
)


@dataclass(frozen=True)
class Import:
    module: str  # the importing module, dotted
    target: str  # the module imported, dotted (ours: resolved to a module that exists)
    line: int
    path: Path


def module_names(root: Path, packages: tuple[str, ...]) -> dict[str, Path]:
    mods: dict[str, Path] = {}
    for package in packages:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            mods[".".join(parts)] = path
    return mods


@functools.cache
def imports(root: Path, packages: tuple[str, ...]) -> list[Import]:
    """Every import statement of ``packages`` (at any depth, lazy ones included).

    Our targets are resolved to the deepest existing module (``from a.b import c`` is
    ``a.b.c`` when that is a module, else ``a.b``); third-party ones are kept as written.
    """
    mods = module_names(root, packages)

    def resolve(name: str, fallback: str) -> str:
        probe = name
        while probe and probe not in mods:
            probe = probe.rpartition(".")[0]
        return probe or fallback

    out: list[Import] = []
    for module, path in mods.items():
        package = module if path.name == "__init__.py" else module.rpartition(".")[0]
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [resolve(a.name, a.name) for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[:len(package.split(".")) - node.level + 1]
                    source = ".".join(base + ([node.module] if node.module else []))
                else:
                    source = node.module or ""
                targets = [resolve(f"{source}.{a.name}", source) for a in node.names]
            out.extend(Import(module, t, node.lineno, path) for t in targets if t != module)
    return out


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def _where(root: Path, i: Import) -> str:
    return f"{i.path.relative_to(root)}:{i.line} imports {i.target}"


def package_violations(root: Path, packages: tuple[str, ...],
                       allowed: dict[str, set[str]]) -> list[str]:
    wrong = []
    for i in imports(root, packages):
        mine, theirs = i.module.split(".")[0], i.target.split(".")[0]
        if theirs in packages and theirs != mine and theirs not in allowed[mine]:
            wrong.append(_where(root, i))
    return wrong


def forbidden_violations(root: Path, packages: tuple[str, ...],
                         rules: tuple[tuple[str, str], ...]) -> list[str]:
    return [_where(root, i) for i in imports(root, packages)
            for importer, imported in rules
            if _under(i.module, importer) and _under(i.target, imported)]


def placement_violations(root: Path, packages: tuple[str, ...], library: str,
                         allowed: tuple[str, ...]) -> list[str]:
    """Imports of ``library`` (``import x``, ``import x.y``, ``from x import y``) from
    modules not under one of ``allowed``."""
    return [_where(root, i) for i in imports(root, packages)
            if _under(i.target, library) and not any(_under(i.module, a) for a in allowed)]


def cycles(root: Path, packages: tuple[str, ...]) -> list[list[str]]:
    """The strongly connected components of the module graph with more than one module."""
    edges: dict[str, set[str]] = {m: set() for m in module_names(root, packages)}
    for i in imports(root, packages):
        if i.target in edges:
            edges[i.module].add(i.target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(v: str) -> None:  # Tarjan's algorithm; the graph is a few hundred modules
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(edges[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
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

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return found


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_follow_the_architecture(package: str) -> None:
    wrong = [w for w in package_violations(ROOT, PACKAGES, ALLOWED)
             if w.startswith(package + "/")]
    assert not wrong, "\n".join(wrong)


def test_the_judge_never_imports_the_candidate_and_the_recursor_no_io() -> None:
    wrong = forbidden_violations(ROOT, PACKAGES, FORBIDDEN)
    assert not wrong, "\n".join(wrong)


def test_pandas_stays_in_reports() -> None:
    wrong = placement_violations(ROOT, PACKAGES, "pandas", PANDAS)
    assert not wrong, "\n".join(wrong)


def test_rich_only_where_people_read() -> None:
    wrong = placement_violations(ROOT, PACKAGES, "rich", RICH)
    assert not wrong, "\n".join(wrong)


def test_no_import_cycles_between_modules() -> None:
    found = cycles(ROOT, PACKAGES)
    assert not found, "\n".join(" <-> ".join(c) for c in found)


# The checker itself, on a package written for the purpose.

def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_the_checker_fails_on_each_kind_of_forbidden_import(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "low/__init__.py": "",
        "low/leaf.py": "import high.top\n",  # upward: low may import nothing
        "high/__init__.py": "",
        "high/judge/__init__.py": "",
        "high/judge/walk.py": "def f():\n    from low.leaf import x\n",  # lazy, still counted
        "high/show.py": "from pandas import DataFrame\nimport rich.console\n",
        "high/top.py": "from .show import y\nimport pandas.io\n",
    })
    packages = ("low", "high")
    allowed: dict[str, set[str]] = {"low": set(), "high": {"low"}}
    assert package_violations(root, packages, allowed) == ["low/leaf.py:1 imports high.top"]
    assert forbidden_violations(root, packages, (("high.judge", "low"),)) == [
        "high/judge/walk.py:2 imports low.leaf"]
    assert placement_violations(root, packages, "pandas", ("high.top",)) == [
        "high/show.py:1 imports pandas"]
    assert placement_violations(root, packages, "rich", ("high.top",)) == [
        "high/show.py:2 imports rich.console"]
    assert placement_violations(root, packages, "rich", ("high",)) == []
    # high.top -> high.show (relative import) does not make a cycle; this one does:
    assert cycles(root, packages) == []
    (root / "high/show.py").write_text("import high.top\n")
    imports.cache_clear()
    assert cycles(root, packages) == [["high.show", "high.top"]]


def test_a_cycle_through_a_lazy_import_counts(tmp_path: Path) -> None:
    root = _tree(tmp_path, {
        "p/__init__.py": "",
        "p/a.py": "from p.b import thing\n",
        "p/b.py": "def later():\n    from p import c\n",
        "p/c.py": "from p import a\n",
    })
    assert cycles(root, ("p",)) == [["p.a", "p.b", "p.c"]]


# Module size: no module of the resolver over MAX_RESOLVER_MODULE_LINES (issue 17: a reader
# finds a concept in a module, not a module of concepts).

MAX_RESOLVER_MODULE_LINES = 600


def oversized(root: Path, package: str, limit: int) -> list[str]:
    """``path: N lines`` for every module of ``package`` longer than ``limit`` lines."""
    found = []
    for path in sorted((root / package).rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_resolver_module_over_the_limit() -> None:
    found = oversized(ROOT, "resolver", MAX_RESOLVER_MODULE_LINES)
    assert not found, "\n".join(found)


def test_the_size_check_fails_on_a_long_module(tmp_path: Path) -> None:
    root = _tree(tmp_path, {"p/__init__.py": "", "p/short.py": "x = 1\n" * 10,
                            "p/deep/long.py": "x = 1\n" * 11})
    assert oversized(root, "p", 10) == ["p/deep/long.py: 11 lines"]
