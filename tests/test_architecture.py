"""Rules about where code lives and what it may call, read from the source itself."""

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_PACKAGES = ("services", "rapport_common")

CLOCK_MODULE = Path("rapport_common/clock.py")
# Reads of the system's clock that bypass an injected Clock, as ``module.attribute``
# (``datetime.now``, ``datetime.datetime.now``) or as a bare name (``utcnow``).
WALL_CLOCK_READS = {"now", "utcnow", "today", "time", "time_ns"}
WALL_CLOCK_OWNERS = {"datetime", "date", "time"}
# Access tokens are checked by PyJWT against the system's clock, so they are issued on it
# (see the module's docstring); everything else is handed a Clock.
SYSTEM_CLOCK_CALLERS = {CLOCK_MODULE, Path("services/api/auth/tokens.py")}


def _production_modules() -> Iterator[tuple[Path, ast.Module]]:
    for package in PRODUCTION_PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            relative = path.relative_to(ROOT)
            yield relative, ast.parse(path.read_text(), filename=str(relative))


def _calls(tree: ast.Module) -> Iterator[ast.Call]:
    return (node for node in ast.walk(tree) if isinstance(node, ast.Call))


def _name(node: ast.expr) -> str | None:
    """The last name of ``f`` or ``a.b.f``; None for anything else (a call, a subscript)."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _reads_wall_clock(call: ast.Call) -> bool:
    function = call.func
    if isinstance(function, ast.Name):
        return function.id == "utcnow"
    if not isinstance(function, ast.Attribute) or function.attr not in WALL_CLOCK_READS:
        return False
    return function.attr == "utcnow" or _name(function.value) in WALL_CLOCK_OWNERS


def test_only_the_clock_module_reads_the_system_clock() -> None:
    found = [
        f"{path}:{call.lineno}: {ast.unparse(call)}"
        for path, tree in _production_modules()
        if path != CLOCK_MODULE
        for call in _calls(tree)
        if _reads_wall_clock(call)
    ]
    assert found == [], "take 'now' from a rapport_common.clock.Clock instead:\n" + "\n".join(found)


def test_system_clock_is_called_only_where_no_clock_can_be_handed() -> None:
    found = [
        f"{path}:{call.lineno}"
        for path, tree in _production_modules()
        if path not in SYSTEM_CLOCK_CALLERS
        for call in _calls(tree)
        if _name(call.func) == "system_clock"
    ]
    assert found == [], "hand the code a Clock rather than calling system_clock():\n" + "\n".join(
        found
    )
