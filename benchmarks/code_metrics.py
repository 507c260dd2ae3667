"""The package's shape in numbers: the metrics of the code review (issue 33), from the AST.

    python benchmarks/code_metrics.py [ROOT]      # ROOT: a checkout, default this one

Prints one line per metric. "Code lines" of a function leave out its docstring, comments,
blank lines and the functions defined inside it; nesting counts control blocks (if, for,
while, with, try) inside one function. The both-trees count is the number of test files
that define their own table or helper for running a test on both trees (a ``TREES`` constant,
a ``tree_params`` function, a ``tree`` fixture, a ``Tree`` class).
"""

from __future__ import annotations

import ast
import re
import statistics
import subprocess
import sys
from pathlib import Path

CONTROL = (ast.If, ast.For, ast.While, ast.With, ast.Try, ast.AsyncFor, ast.AsyncWith)
FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


def code_lines(fn: ast.AST, source_lines: list[str]) -> int:
    """Lines of ``fn`` that hold code: no docstring, comment, blank line or nested def."""
    skip = set()
    body = fn.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        skip.update(range(body[0].lineno, body[0].end_lineno + 1))
    for node in ast.walk(fn):
        if node is not fn and isinstance(node, (*FUNCS, ast.ClassDef)):
            skip.update(range(node.lineno, node.end_lineno + 1))
    count = 0
    for n in range(fn.body[0].lineno, fn.end_lineno + 1):
        text = source_lines[n - 1].strip()
        if n not in skip and text and not text.startswith("#"):
            count += 1
    return count


def nesting(node: ast.AST, depth: int = 0) -> int:
    """The deepest chain of control blocks below ``node``, not entering nested functions."""
    deepest = depth
    for child in ast.iter_child_nodes(node):
        if isinstance(child, (*FUNCS, ast.ClassDef)):
            continue
        inner = depth + 1 if isinstance(child, CONTROL) else depth
        deepest = max(deepest, nesting(child, inner))
    return deepest


def docstring_lines(tree: ast.Module) -> int:
    total = 0
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, *FUNCS, ast.ClassDef)) and ast.get_docstring(node):
            first = node.body[0]
            total += first.end_lineno - first.lineno + 1
    return total


def raises(tree: ast.Module, names: set[str]) -> int:
    """``raise`` statements of the exception classes in ``names``."""
    count = 0
    for node in ast.walk(tree):
        if isinstance(node, ast.Raise) and node.exc is not None:
            exc = node.exc.func if isinstance(node.exc, ast.Call) else node.exc
            name = exc.attr if isinstance(exc, ast.Attribute) else getattr(exc, "id", "")
            count += name in names
    return count


def duplicate_pairs(folder: Path, min_lines: int) -> str:
    try:
        out = subprocess.run(
            [
                "duplicates",
                "--repo",
                str(folder),
                "--min-lines",
                str(min_lines),
                "--most",
                "1",
                "--seconds",
                "120",
            ],
            capture_output=True,
            text=True,
            check=False,
        ).stdout
    except FileNotFoundError:
        return "n/a (no duplicates tool)"
    first = out.splitlines()[0] if out else ""
    match = re.search(r"(\d+) pairs?", first)
    return match.group(1) if match else ("0" if "no duplicates" in first else first)


def main(root: Path) -> None:
    package = root / "code" / "nntrain"
    files = sorted(package.rglob("*.py"))
    lines = {"reference": 0, "torch": 0, "services": 0}
    functions, long_functions, deepest = [], [], (0, "")
    raises_home = raises_elsewhere = invalid_elsewhere = 0
    with_all = 0
    doc = nonblank = 0
    private_crossings = 0
    torch_guards = 0
    for path in files:
        text = path.read_text()
        source_lines = text.splitlines()
        tree = ast.parse(text)
        part = path.relative_to(package).parts[0]
        lines[part if part in ("reference", "torch") else "services"] += len(source_lines)
        nonblank += sum(1 for line in source_lines if line.strip())
        doc += docstring_lines(tree)
        rel = str(path.relative_to(package))
        if rel.startswith("validation"):
            raises_home += raises(tree, {"ValueError", "TypeError", "InvalidArgument"})
        else:
            raises_elsewhere += raises(tree, {"ValueError", "TypeError"})
            invalid_elsewhere += raises(tree, {"InvalidArgument"})
        if any(
            isinstance(node, ast.Assign)
            and any(getattr(t, "id", "") == "__all__" for t in node.targets)
            for node in tree.body
        ):
            with_all += 1
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (
                node.level or "nntrain" in (node.module or "")
            ):
                private_crossings += sum(
                    1 for a in node.names if a.name.startswith("_") and not a.name.startswith("__")
                )
            if (
                isinstance(node, ast.ExceptHandler)
                and getattr(node.type, "id", "") == "ImportError"
            ):
                torch_guards += 1
            if isinstance(node, FUNCS):
                n = code_lines(node, source_lines)
                functions.append(n)
                if n > 40:
                    long_functions.append(f"{rel}:{node.name} ({n})")
                d = nesting(node)
                if d > deepest[0]:
                    deepest = (d, f"{rel}:{node.name}")
    tests = root / "tests"
    ways = set()
    for path in sorted(tests.glob("*.py")):
        text = path.read_text()
        patterns = (r"^TREES\s*=", r"^def tree_params\(", r"^class Tree\b", r"^def trees?\(")
        if any(re.search(p, text, re.M) for p in patterns):
            ways.add(path.name)
    rows = [
        ("package modules", len(files)),
        ("package lines", sum(lines.values())),
        (
            "reference / torch / services lines",
            f"{lines['reference']} / {lines['torch']} / {lines['services']}",
        ),
        ("functions / median code lines", f"{len(functions)} / {statistics.median(functions):g}"),
        ("functions over 40 code lines", len(long_functions)),
        ("deepest nesting of control blocks", f"{deepest[0]} ({deepest[1]})"),
        (
            "raises of a bad argument: in validation / elsewhere ValueError or TypeError"
            " / elsewhere InvalidArgument",
            f"{raises_home} / {raises_elsewhere} / {invalid_elsewhere}",
        ),
        ("docstring share of non-blank lines", f"{100 * doc / nonblank:.0f}%"),
        ("modules with __all__", f"{with_all} of {len(files)}"),
        ("private names imported across modules", private_crossings),
        ("except ImportError guards", torch_guards),
        ("test files defining their own both-trees table or helper", len(ways)),
        ("duplicates pairs >= 6 lines, code/", duplicate_pairs(root / "code", 6)),
        ("duplicates pairs >= 6 lines, tests/", duplicate_pairs(root / "tests", 6)),
    ]
    for name, value in rows:
        print(f"{name}: {value}")
    print("functions over 40 code lines:", ", ".join(long_functions))


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[1])
