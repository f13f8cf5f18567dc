"""How many lines of hand-written rules the answer stage holds: regular expressions and word lists.

    .venv/bin/python benchmarks/rule_lines.py            # the working tree
    .venv/bin/python benchmarks/rule_lines.py --at REV   # a commit (git show), to compare

Counted in ``assistant/answer/*.py`` and ``assistant/api.py``: every source line of a pattern
given to ``re`` (compile, search, match, sub, ...), of a string constant written as a pattern
(it has ``\\b``, ``\\d``, ``\\s``, ``\\w`` or ``(?:``) and of a literal list, tuple or set of three or more words.
Code that uses them, docstrings and comments are not counted. A rough measure, the same for
every revision: it says whether a change added rules or took them away.
"""

from __future__ import annotations

import argparse
import ast
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FILES = ("assistant/api.py", "assistant/answer/*.py")
_RE_FUNCS = {
    "compile",
    "search",
    "match",
    "fullmatch",
    "sub",
    "subn",
    "findall",
    "finditer",
    "split",
}
_PATTERNISH = re.compile(r"\\[bBdDsSwW]|\(\?[:=!<iP]")


def _lines(node: ast.AST) -> set[int]:
    return set(range(node.lineno, (node.end_lineno or node.lineno) + 1))  # type: ignore[attr-defined]


def _is_pattern_text(node: ast.AST) -> bool:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return bool(_PATTERNISH.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(_is_pattern_text(v) for v in node.values)
    if isinstance(node, ast.BinOp):  # "a" "b" joined by +
        return _is_pattern_text(node.left) or _is_pattern_text(node.right)
    return False


def rule_lines(source: str) -> set[int]:
    """The line numbers of ``source`` that hold patterns or word lists."""
    out: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call):
            f = node.func
            is_re = isinstance(f, ast.Attribute) and getattr(f.value, "id", "") == "re"
            if is_re and f.attr in _RE_FUNCS and node.args:  # type: ignore[union-attr]
                out |= _lines(node.args[0])
        elif isinstance(node, (ast.Set, ast.List, ast.Tuple)):
            words = [
                e for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)
            ]
            if len(words) >= 3:
                out |= _lines(node)
        elif isinstance(node, ast.Assign) and _is_pattern_text(node.value):
            out |= _lines(node.value)
    return out


def sources(rev: str | None) -> dict[str, str]:
    if rev is None:
        return {
            str(p.relative_to(ROOT)): p.read_text() for g in FILES for p in sorted(ROOT.glob(g))
        }
    names = subprocess.run(
        ["git", "ls-tree", "--name-only", rev, "assistant/api.py", "assistant/answer/"],
        cwd=ROOT, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip

    def show(name: str) -> str:
        return subprocess.run(
            ["git", "show", f"{rev}:{name}"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout

    return {n: show(n) for n in names if n.endswith(".py")}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--at", metavar="REV", help="count at this git revision instead")
    args = p.parse_args()
    total = 0
    print("| file | rule lines |\n|---|---|")
    for name, text in sources(args.at).items():
        n = len(rule_lines(text))
        total += n
        if n:
            print(f"| {name} | {n} |")
    print(f"| **total** | **{total}** |")


if __name__ == "__main__":
    main()
