"""List every function longer than a limit (default 60 lines, decorators and docstring
included) under src/ and flows/: `python .ci/long_functions.py [limit]`. Informational: the
habit is to split a long function where a step has a name, not to fail a build."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def long_functions(limit: int) -> list[tuple[int, str, str]]:
    found = []
    for path in sorted([*ROOT.glob("src/**/*.py"), *ROOT.glob("flows/**/*.py")]):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = min([node.lineno, *(d.lineno for d in node.decorator_list)])
                n = (node.end_lineno or node.lineno) - first + 1
                if n > limit:
                    found.append((n, str(path.relative_to(ROOT)), node.name))
    return sorted(found, key=lambda r: (r[1], -r[0]))


if __name__ == "__main__":
    limit = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    for n, path, name in long_functions(limit):
        print(f"{n:4d}  {path}:{name}")
