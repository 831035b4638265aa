"""The project's structural rules, checked on the source rather than left to docstrings.

- ``service/kit/`` is plumbing: it imports no domain package;
- routers translate HTTP to service calls: they never open a database block;
- statements run in repositories only, and so do row locks.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SERVICE = Path(__file__).resolve().parent.parent / "service"
# The emulator stands in for FC and keeps its own store; it is not fcplane's data layer.
FCPLANE = [p for p in SERVICE.rglob("*.py") if "emulator" not in p.relative_to(SERVICE).parts]
STATEMENT = re.compile(
    r"\bsession\.(execute|scalar|scalars|get|stream|delete|merge)\(|with_for_update"
)


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted((SERVICE / "kit").glob("*.py")), ids=lambda p: p.name)
def test_kit_imports_no_domain_package(path: Path) -> None:
    domain = {
        m for m in _imports(path) if m.startswith("service.") and not m.startswith("service.kit")
    }
    assert not domain, f"{path.name} imports {sorted(domain)}"


def test_routers_never_open_a_database_block() -> None:
    offenders = [
        str(p.relative_to(SERVICE))
        for p in FCPLANE
        if p.name == "router.py"
        and re.search(r"\.(read|write)\(\)|AsyncSession|Database", p.read_text())
    ]
    assert offenders == []


def test_every_router_refuses_unknown_query_parameters() -> None:
    offenders = [
        str(p.relative_to(SERVICE))
        for p in FCPLANE
        if p.name == "router.py"
        and "APIRouter(" in p.read_text()
        and "route_class=StrictRoute" not in p.read_text()
    ]
    assert offenders == []


def test_statements_and_row_locks_live_in_repositories() -> None:
    allowed = {"repository.py"}
    offenders = [
        f"{p.relative_to(SERVICE)}:{n}"
        for p in FCPLANE
        if p.name not in allowed
        for n, line in enumerate(p.read_text().splitlines(), 1)
        if STATEMENT.search(line)
    ]
    assert offenders == []
