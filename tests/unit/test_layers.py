"""The import direction of docs/architecture.md, read from the package's own imports: the
layer rules stay true as the code grows (issue 10)."""
import ast
import subprocess
import sys
import time
from pathlib import Path

import pytest

PKG = Path(__file__).parents[2] / "sdrcast"
STANDARDS = ("atsc3", "dtmb", "fembms")


def _modules() -> dict[str, set[str]]:
    """Module -> the sdrcast modules it imports (at any depth of the file)."""
    out = {}
    for f in PKG.rglob("*.py"):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        deps = set()
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.startswith("sdrcast"):
                    deps.add(node.module)
            elif isinstance(node, ast.Import):
                deps |= {a.name for a in node.names if a.name.startswith("sdrcast")}
        out[name] = deps
    return out


MODULES = _modules()


def _is(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


def _std(module: str, layer: str) -> bool:
    """``module`` is a standard-specific part of ``layer`` (e.g. sdrcast.phy.atsc3...)."""
    return any(_is(module, f"sdrcast.{layer}.{s}") for s in STANDARDS)


RULES = [  # (who, what they must not import, why)
    (lambda m: _is(m, "sdrcast.phy.kernels"), lambda d: not _is(d, "sdrcast.phy.kernels"),
     "kernels import only numpy/numba/math/scipy (and each other)"),
    (lambda m: _is(m, "sdrcast.runtime"),
     lambda d: not _is(d, "sdrcast.runtime", "sdrcast.errors", "sdrcast.config"),
     "the runtime imports no DSP, I/O or standard"),
    (lambda m: _is(m, "sdrcast.sdr_io"),
     lambda d: _std(d, "phy") or _std(d, "mac") or _is(d, "sdrcast.phy", "sdrcast.channel",
                                                        "sdrcast.analysis", "sdrcast.flowgraphs",
                                                        "sdrcast.cli", "sdrcast.standards"),
     "I/O imports no standard and no DSP (TS/IP helpers come from mac.ts/mac.ip)"),
    (lambda m: _is(m, "sdrcast.mac"),
     lambda d: _std(d, "phy") or _is(d, "sdrcast.sdr_io", "sdrcast.channel", "sdrcast.analysis",
                                     "sdrcast.flowgraphs", "sdrcast.cli", "sdrcast.standards"),
     "link layers import no standard's physical layer, I/O or programs"),
    (lambda m: _is(m, "sdrcast.phy"),
     lambda d: _is(d, "sdrcast.sdr_io", "sdrcast.analysis", "sdrcast.flowgraphs", "sdrcast.cli",
                   "sdrcast.standards", "sdrcast.channel"),
     "physical layers import no I/O, analysis, programs or the channel emulator"),
    (lambda m: _is(m, "sdrcast.phy") and not _std(m, "phy"),
     lambda d: _std(d, "phy") or _std(d, "mac"),
     "shared physical-layer machinery imports no standard"),
    (lambda m: _is(m, "sdrcast.channel"),
     lambda d: _std(d, "phy") or _is(d, "sdrcast.mac", "sdrcast.sdr_io", "sdrcast.flowgraphs",
                                     "sdrcast.cli", "sdrcast.analysis", "sdrcast.standards"),
     "the channel emulator imports no standard, I/O or program"),
    (lambda m: not _is(m, "sdrcast.cli", "sdrcast.__main__"), lambda d: _is(d, "sdrcast.cli"),
     "only the command line's entry point imports cli"),
    (lambda m: _is(m, "sdrcast.standards"), lambda d: not _is(d, "sdrcast.errors"),
     "the registry names its parts as strings and imports none of them"),
    (lambda m: not _is(m, "sdrcast.monitor", "sdrcast.cli", "sdrcast.flowgraphs.demo"),
     lambda d: _is(d, "sdrcast.monitor"),
     "the monitoring station is on top: only the command line and make demo import it"),
    (lambda m: _is(m, "sdrcast.monitor") and not _is(m, "sdrcast.monitor.demo"),
     lambda d: _std(d, "phy") or _std(d, "mac"),
     "the station reaches the standards through the registry (its demo makes signals)"),
]


@pytest.mark.parametrize("who, bad, why", RULES, ids=[r[2] for r in RULES])
def test_import_direction(who, bad, why):
    broken = sorted(f"{m} -> {d}" for m, deps in MODULES.items() if who(m)
                    for d in deps if bad(d) and not _is(d, m))
    assert not broken, f"{why}:\n" + "\n".join(broken)


def test_rules_see_the_package():
    """The rules are read from real imports (a rule over nothing could not fail)."""
    assert len(MODULES) > 80
    assert "sdrcast.phy.kernels.bits" in MODULES["sdrcast.phy.kernels.qam"]
    assert "sdrcast.mac.ts" in MODULES["sdrcast.sdr_io.payload"]


def _package(m: str) -> str:
    """The package an import counts for: sdrcast.phy.atsc3, sdrcast.mac.atsc3, sdrcast.phy.fec,
    ..., else the top-level one (sdrcast.runtime, sdrcast.phy for its shared modules)."""
    p = m.split(".")
    sub = len(p) > 2 and p[1] in ("phy", "mac") and (PKG / p[1] / p[2]).is_dir()
    return ".".join(p[:3] if sub else p[:2])


def _load_time_graph() -> dict[str, set[str]]:
    """Package -> packages it imports at load time (top-level ``import``/``from`` statements)."""
    graph: dict[str, set[str]] = {}
    for f in PKG.rglob("*.py"):
        parts = f.relative_to(PKG.parent).with_suffix("").parts
        m = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        for node in ast.parse(f.read_text()).body:
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            elif isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            else:
                continue
            for d in names:
                if d.startswith("sdrcast") and _package(d) != _package(m):
                    graph.setdefault(_package(m), set()).add(_package(d))
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Every cycle a depth-first walk of ``graph`` meets (as the path around it)."""
    found, done, stack = [], set(), []

    def visit(n):
        if n in stack:
            found.append(stack[stack.index(n):] + [n])
            return
        if n in done:
            return
        stack.append(n)
        for d in sorted(graph.get(n, ())):
            visit(d)
        stack.pop()
        done.add(n)

    for n in sorted(graph):
        visit(n)
    return found


def test_cycle_finder_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == [["a", "b", "c", "a"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []


def test_no_import_cycles_between_packages():
    """No circles in the package graph of load-time imports; the graph is the package's own
    (standards import shared machinery, never the other way round)."""
    graph = _load_time_graph()
    assert "sdrcast.phy" in graph["sdrcast.phy.atsc3"]  # the walk sees real edges
    assert _cycles(graph) == []


def test_help_loads_no_standard_and_answers_fast():
    code = ("import sys, time; t = time.perf_counter(); from sdrcast.cli import build_parser; "
            "build_parser(); print(time.perf_counter() - t); "
            "print(sorted(m for m in sys.modules if m.startswith(('sdrcast.phy', 'numba'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60).stdout.splitlines()
    assert out[1] == "[]", out[1]
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "sdrcast", "--help"], capture_output=True, timeout=60)
    assert r.returncode == 0 and time.perf_counter() - t0 < 1.5  # interpreter start included
