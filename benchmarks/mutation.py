"""Seeded mutation testing of the core modules: which deliberate bugs do the tests miss?

A mutant is a copy of the package with one small change made through the AST
(a comparison or arithmetic operator swapped, ``and``/``or`` exchanged, a ``not``
dropped, a number or boolean changed, a call statement removed). For each core
module the script samples ``--per-module`` mutants with ``--seed``, copies the
package and its tests to a scratch folder, applies the mutant, and runs the
module's own test files (``pytest -x``) with a time limit:

- killed: a test failed (or the run hit the limit: a mutant that hangs is caught);
- survived: every test passed; the mutant is then run against the claim tests
  added for issue 18 that bear on the module (``tests/test_claims_*.py``),
  which says whether it was guarded *before* them and is guarded *after*.

Not part of the test run: it takes minutes (about ``per-module x modules x 20 s``
on one core). Results go to a JSON file and a markdown table (docs/mutation.md).

    OMP_NUM_THREADS=1 python benchmarks/mutation.py --per-module 8 --seed 0 \\
        --out /tmp/mutation.json

``--module sklearn_dlpp/_engine.py`` restricts the run; ``--list`` prints the
mutation points without running anything.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# The module's own test files (the "before" suite of its mutants), and the claim
# tests of issue 18 that bear on it (the "after" suite, run on survivors only).
_ENGINE_TESTS = (
    ["tests/test_training_faults.py", "tests/test_determinism.py", "tests/test_mlp.py"],
    [
        "tests/test_claims_runtime.py",
        "tests/test_claims_training.py",
        "tests/test_claims_distributed.py",
    ],
)
MODULES: dict[str, tuple[list[str], list[str]]] = {
    # The training engine and the modules it was split into share its tests.
    "sklearn_dlpp/_engine.py": _ENGINE_TESTS,
    "sklearn_dlpp/_spec.py": _ENGINE_TESTS,
    "sklearn_dlpp/_stopping.py": _ENGINE_TESTS,
    "sklearn_dlpp/_net.py": _ENGINE_TESTS,
    "sklearn_dlpp/_runtime.py": _ENGINE_TESTS,
    "sklearn_dlpp/_base.py": (
        ["tests/test_training_faults.py", "tests/test_streaming.py", "tests/test_mlp.py"],
        [
            "tests/test_claims_training.py",
            "tests/test_claims_defaults.py",
            "tests/test_claims_runtime.py",
            "tests/test_claims_distributed.py",
        ],
    ),
    "sklearn_dlpp/_dense.py": (
        ["tests/test_perceptron.py", "tests/test_mlp.py"],
        [
            "tests/test_claims_training.py",
            "tests/test_claims_inputs.py",
            "tests/test_claims_runtime.py",
        ],
    ),
    "sklearn_dlpp/_graph_base.py": (
        ["tests/test_graph_estimators.py", "tests/test_typed_events.py"],
        [
            "tests/test_claims_defaults.py",
            "tests/test_claims_workflow.py",
            "tests/test_claims_weights.py",
            "tests/test_claims_inputs.py",
        ],
    ),
    "sklearn_dlpp/graph/_sets.py": (
        ["tests/graph", "tests/test_graph_estimators.py"],
        ["tests/test_claims_padded.py", "tests/test_claims_inputs.py"],
    ),
    "sklearn_dlpp/nn/_network.py": (
        ["tests/nn", "tests/test_graph_estimators.py"],
        [
            "tests/test_claims_defaults.py",
            "tests/test_claims_weights.py",
            "tests/test_claims_workflow.py",
        ],
    ),
    "sklearn_dlpp/_persist.py": (["tests/test_persist.py", "tests/test_persist_golden.py"], []),
    "sklearn_dlpp/metrics.py": (["tests/test_metrics.py"], []),
    "sklearn_dlpp/_distributed.py": (
        ["tests/test_distributed.py"],
        ["tests/test_claims_distributed.py"],
    ),
}


_COMPARE_SWAPS = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
_BINOP_SWAPS = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.Div,
    ast.Div: ast.Mult,
    ast.FloorDiv: ast.Div,
    ast.Pow: ast.Mult,
    ast.Mod: ast.FloorDiv,
}


@dataclass
class Mutant:
    module: str
    index: int  # the index of the mutated node in ast.walk order
    kind: str
    line: int
    before: str
    after: str
    result: str = ""
    seconds: float = 0.0
    killed_by: str = ""


def _docstring_nodes(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0]))
    return ids


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """Nodes inside annotations (never executed with ``from __future__ import annotations``)."""
    ids = set()
    for node in ast.walk(tree):
        parts = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            parts.append(node.returns)
            args = node.args
            parts += [a.annotation for a in [*args.args, *args.kwonlyargs, *args.posonlyargs]]
            parts += [args.vararg and args.vararg.annotation, args.kwarg and args.kwarg.annotation]
        elif isinstance(node, ast.AnnAssign):
            parts.append(node.annotation)
        for part in parts:
            if part is not None:
                ids.update(id(n) for n in ast.walk(part))
    return ids


def _mutations(node: ast.AST) -> list[tuple[str, object]]:
    """(kind, payload) for each way of mutating ``node``."""
    out: list[tuple[str, object]] = []
    if isinstance(node, ast.Compare) and len(node.ops) == 1:
        swap = _COMPARE_SWAPS.get(type(node.ops[0]))
        if swap:
            out.append(("compare", swap))
    elif isinstance(node, (ast.BinOp, ast.AugAssign)):
        swap = _BINOP_SWAPS.get(type(node.op))
        if swap:
            out.append(("arithmetic", swap))
    elif isinstance(node, ast.BoolOp):
        out.append(("boolean", ast.Or if isinstance(node.op, ast.And) else ast.And))
    elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
        out.append(("drop not", None))
    elif isinstance(node, ast.Constant) and not isinstance(node.value, (str, bytes)):
        value = node.value
        if isinstance(value, bool):
            out.append(("constant", not value))
        elif isinstance(value, int):
            out.append(("constant", value + 1))
        elif isinstance(value, float):
            out.append(("constant", value * 2 if value else 1.0))
    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
        out.append(("remove call", None))
    return out


def _apply(tree: ast.Module, index: int, kind: str, payload: object) -> ast.Module:
    tree = copy.deepcopy(tree)
    nodes = list(ast.walk(tree))
    node = nodes[index]
    if kind == "compare":
        node.ops = [payload()]
    elif kind == "arithmetic" or kind == "boolean":
        node.op = payload()
    elif kind == "constant":
        node.value = payload
    elif kind in ("drop not", "remove call"):
        replacement = node.operand if kind == "drop not" else ast.Pass()
        for parent in nodes:
            for field, value in ast.iter_fields(parent):
                if value is node:
                    setattr(parent, field, replacement)
                elif isinstance(value, list) and any(v is node for v in value):
                    setattr(parent, field, [replacement if v is node else v for v in value])
    return ast.fix_missing_locations(tree)


def mutation_points(module: str) -> tuple[ast.Module, list[Mutant], list[tuple[str, object]]]:
    source = (ROOT / module).read_text()
    tree = ast.parse(source)
    skip = _docstring_nodes(tree) | _annotation_nodes(tree)
    points, payloads = [], []
    lines = source.splitlines()
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip or not hasattr(node, "lineno"):
            continue
        # Constants in decorators, defaults of keyword-only flags, etc. stay; only
        # module-level dunder metadata is left alone.
        for kind, payload in _mutations(node):
            mutated = _apply(tree, index, kind, payload)
            after = ast.unparse(list(ast.walk(mutated))[index]) if kind != "remove call" else "pass"
            if kind == "drop not":
                after = ast.unparse(node.operand)
            points.append(
                Mutant(
                    module=module,
                    index=index,
                    kind=kind,
                    line=node.lineno,
                    before=lines[node.lineno - 1].strip(),
                    after=after,
                )
            )
            payloads.append((kind, payload))
    return tree, points, payloads


def _run_tests(workdir: Path, files: list[str], limit: float) -> tuple[str, float]:
    if not files:
        return "passed", 0.0
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    expanded = []
    for pattern in files:
        expanded += [str(p.relative_to(workdir)) for p in sorted(workdir.glob(pattern))]
    command = [sys.executable, "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider"]
    command += ["-o", "addopts=", "-m", "not slow", *expanded]
    started = time.perf_counter()
    try:
        done = subprocess.run(
            command, cwd=workdir, env=env, capture_output=True, text=True, timeout=limit
        )
    except subprocess.TimeoutExpired:
        return "timeout", time.perf_counter() - started
    seconds = time.perf_counter() - started
    if done.returncode == 0:
        return "passed", seconds
    if done.returncode == 5:  # nothing collected
        return "passed", seconds
    return "failed", seconds


def _scratch_copy() -> Path:
    workdir = Path(tempfile.mkdtemp(prefix="mutation-"))
    shutil.copytree(ROOT / "sklearn_dlpp", workdir / "sklearn_dlpp")
    shutil.copytree(ROOT / "tests", workdir / "tests")
    shutil.copy(ROOT / "pyproject.toml", workdir / "pyproject.toml")
    # The tests must import the scratch copy, not an installed (editable) package.
    found = subprocess.run(
        [sys.executable, "-c", "import sklearn_dlpp; print(sklearn_dlpp.__file__)"],
        cwd=workdir,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not found.startswith(str(workdir)):
        msg = f"the tests would import {found}, not the scratch copy in {workdir}"
        raise RuntimeError(msg)
    return workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-module", type=int, default=8)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--module", action="append", help="only these modules")
    parser.add_argument("--limit", type=float, default=300.0, help="seconds per test run")
    parser.add_argument("--budget", type=float, default=3600.0, help="seconds for the whole run")
    parser.add_argument("--out", default="mutation.json")
    parser.add_argument("--list", action="store_true")
    parser.add_argument(
        "--rerun",
        help="a JSON of an earlier run: run its survivors against today's claim tests only",
    )
    args = parser.parse_args()
    if args.rerun:
        _rerun(Path(args.rerun), args)
        return
    modules = args.module or list(MODULES)
    rng = random.Random(args.seed)
    plan = []
    for module in modules:
        tree, points, payloads = mutation_points(module)
        chosen = sorted(rng.sample(range(len(points)), min(args.per_module, len(points))))
        print(f"{module}: {len(points)} mutation points, running {len(chosen)}")
        plan += [(tree, points[i], payloads[i]) for i in chosen]
        if args.list:
            for i in chosen:
                m = points[i]
                print(f"  line {m.line} {m.kind}: {m.before}  ->  {m.after}")
    if args.list:
        return
    workdir = _scratch_copy()
    started = time.perf_counter()
    results = []
    try:
        for tree, mutant, (kind, payload) in plan:
            if time.perf_counter() - started > args.budget:
                mutant.result = "not run (budget)"
                results.append(mutant)
                continue
            target = workdir / mutant.module
            original = target.read_text()
            target.write_text(ast.unparse(_apply(tree, mutant.index, kind, payload)) + "\n")
            try:
                before_files, after_files = MODULES[mutant.module]
                outcome, seconds = _run_tests(workdir, before_files, args.limit)
                mutant.seconds = seconds
                if outcome != "passed":
                    mutant.result, mutant.killed_by = "killed", f"module tests ({outcome})"
                else:
                    after, seconds = _run_tests(workdir, after_files, args.limit)
                    mutant.seconds += seconds
                    if after != "passed":
                        mutant.result, mutant.killed_by = "killed after", f"claim tests ({after})"
                    else:
                        mutant.result = "survived"
            finally:
                target.write_text(original)
            results.append(mutant)
            print(
                f"{mutant.result:>12}  {mutant.module}:{mutant.line} {mutant.kind}: "
                f"{mutant.before!r} -> {mutant.after!r} ({mutant.seconds:.0f} s)",
                flush=True,
            )
            Path(args.out).write_text(json.dumps([asdict(m) for m in results], indent=1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _summary(results)


def _rerun(path: Path, args: argparse.Namespace) -> None:
    """Run the survivors of an earlier run against the (newer) claim tests of their module."""
    results = [Mutant(**entry) for entry in json.loads(path.read_text())]
    trees = {}
    workdir = _scratch_copy()
    try:
        for mutant in results:
            if mutant.result != "survived":
                continue
            if mutant.module not in trees:
                tree, points, payloads = mutation_points(mutant.module)
                trees[mutant.module] = (
                    tree,
                    {(p.index, p.kind): pl for p, pl in zip(points, payloads, strict=True)},
                )
            tree, payloads = trees[mutant.module]
            kind, payload = payloads[(mutant.index, mutant.kind)]
            target = workdir / mutant.module
            original = target.read_text()
            target.write_text(ast.unparse(_apply(tree, mutant.index, kind, payload)) + "\n")
            try:
                after, seconds = _run_tests(workdir, MODULES[mutant.module][1], args.limit)
            finally:
                target.write_text(original)
            mutant.seconds += seconds
            if after != "passed":
                mutant.result, mutant.killed_by = "killed after", f"claim tests ({after})"
            print(
                f"{mutant.result:>12}  {mutant.module}:{mutant.line} {mutant.kind}: "
                f"{mutant.before!r} -> {mutant.after!r}",
                flush=True,
            )
            Path(args.out).write_text(json.dumps([asdict(m) for m in results], indent=1))
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _summary(results)


def _summary(results: list[Mutant]) -> None:
    print("\n| module | mutants | survived before | survived after |")
    print("| --- | --- | --- | --- |")
    for module in dict.fromkeys(m.module for m in results):
        ran = [m for m in results if m.module == module and not m.result.startswith("not run")]
        before = sum(m.result in ("survived", "killed after") for m in ran)
        after = sum(m.result == "survived" for m in ran)
        print(f"| {module} | {len(ran)} | {before} | {after} |")


if __name__ == "__main__":
    main()
