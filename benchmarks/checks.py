"""Benchmark of the code's shape: the share of each reference module's executable lines
spent on input checks (issue 14's rule: the reference reads math-first, at most a quarter
of a module's lines on checks, aimed at; 30% is the limit a module may not pass).

A line is a check when it belongs to a call of :mod:`nntrain.validation` (``check.x(...)``,
``validation.x(...)``), a ``raise`` or an ``if`` whose body only raises. Executable lines are
the statements' lines, without docstrings, comments and blank lines.

Run alone: ``.venv/bin/python -m benchmarks.checks``.
"""

from __future__ import annotations

import ast
from pathlib import Path

REFERENCE = Path(__file__).resolve().parents[1] / "code" / "nntrain" / "reference"
#: The names a module gives :mod:`nntrain.validation`.
VALIDATION = {"check", "validation"}
#: A reference module may spend at most this share of its executable lines on checks.
LIMIT = 0.30


def _lines(node):
    return set(range(node.lineno, node.end_lineno + 1))


def _is_check(stmt):
    value = getattr(stmt, "value", None) if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    if isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute):
        target = value.func.value
        if isinstance(target, ast.Name) and target.id in VALIDATION:
            return True
    if isinstance(stmt, ast.Raise):
        return True
    return (
        isinstance(stmt, ast.If)
        and not stmt.orelse
        and all(isinstance(s, ast.Raise) for s in stmt.body)
    )


def check_share(path):
    """``(executable lines, check lines)`` of the module at ``path``."""
    text = Path(path).read_text()
    tree = ast.parse(text)
    docstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.ClassDef)) and ast.get_docstring(
            node, clean=False
        ):
            docstrings |= _lines(node.body[0])
    compound = (ast.FunctionDef, ast.ClassDef, ast.If, ast.For, ast.While, ast.With, ast.Try)
    executable, checks = set(), set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.stmt):
            continue
        executable |= {node.lineno} if isinstance(node, compound) else _lines(node)
        if _is_check(node):
            checks |= _lines(node)
    source = text.splitlines()

    def code(lines):
        return {n for n in lines - docstrings if source[n - 1].strip()[:1] not in ("", "#")}

    return len(code(executable)), len(code(checks))


def shares():
    """``{module name: share of check lines}`` for every reference module with code."""
    result = {}
    for path in sorted(REFERENCE.glob("*.py")):
        executable, checks = check_share(path)
        if checks:
            result[path.stem] = checks / executable
    return result


def measure(report):
    for name, share in shares().items():
        report.add(f"reference/{name}.py: lines on checks", 100 * share, "%", at_most=100 * LIMIT)


if __name__ == "__main__":
    from benchmarks.report import Report

    report = Report()
    measure(report)
    raise SystemExit(report.finish())
