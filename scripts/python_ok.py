"""Does this Python satisfy pyproject.toml's ``requires-python``? Exit 0 if so, else 1 with
one line saying which Python it is and what is required (the Makefile asks before it builds
``.venv`` and rebuilds a ``.venv`` whose Python does not, or no longer, satisfies it).

Runs on any Python 3 (no tomllib before 3.11): the specifier is read with a regular
expression. ``--version X.Y[.Z]`` checks that version instead of the running one.
"""

import operator
import re
import sys
from pathlib import Path

PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
OPERATORS = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
    "!=": operator.ne,
}


def version_tuple(text):
    return tuple(int(part) for part in text.strip().split("."))


def satisfies(version, specifier):
    """``version`` (a tuple) against ``specifier`` (e.g. ``>=3.11,<3.14``)."""
    for clause in filter(None, (c.strip() for c in specifier.split(","))):
        match = re.match(r"(>=|<=|==|!=|>|<)\s*([0-9.]+)$", clause)
        if not match:
            raise SystemExit(f"cannot read requires-python clause {clause!r}")
        bound = version_tuple(match.group(2))
        if not OPERATORS[match.group(1)](version[: len(bound)], bound):
            return False
    return True


def main(argv):
    text = PYPROJECT.read_text()
    found = re.search(r'^requires-python\s*=\s*"([^"]+)"', text, re.MULTILINE)
    if not found:
        return 0
    specifier = found.group(1)
    if len(argv) == 2 and argv[0] == "--version":
        version = version_tuple(argv[1])
    else:
        version = tuple(sys.version_info[:3])
    if satisfies(version, specifier):
        return 0
    shown = ".".join(str(part) for part in version)
    print(
        f"Python {shown} ({sys.executable}) does not satisfy requires-python {specifier}"
        " (pyproject.toml)",
        file=sys.stderr,
    )
    return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
