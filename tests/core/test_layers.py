"""Nothing above the store reaches past its port: outside ``incidentflow/store/`` the
package imports only ``store.port``, ``store.records``, ``store.open_store`` and
``store.shared_between_processes``, never a store implementation module, SQLAlchemy or
Alembic. Driver errors reach the engine as ``errors.StoreUnavailable``, so no one above
the store needs the driver's types."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).parents[2] / "incidentflow"
# The async adapters and the loop bridge (the writer thread's answers on the loop) are
# the store's business: not allowed here.
ALLOWED_STORE_MODULES = {
    "incidentflow.store.port", "incidentflow.store.records", "incidentflow.store.async_port",
}
ALLOWED_FROM_STORE = {"open_store", "shared_between_processes", "port", "records"}
FORBIDDEN_ROOTS = {"sqlalchemy", "alembic", "psycopg"}
# The test helpers ship the in-memory store; it is a store, not a caller of one.
STORE_SIDE = {"testing.py"}


def imported(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, dotted name) of every import, inside functions too; ``from a import b``
    gives both ``a`` and ``a.b``."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def violation(name: str) -> bool:
    if name.split(".")[0] in FORBIDDEN_ROOTS:
        return True
    if not name.startswith("incidentflow.store."):
        return False
    parts = name.split(".")
    if ".".join(parts[:3]) in ALLOWED_STORE_MODULES:
        return False
    return not (len(parts) == 3 and parts[2] in ALLOWED_FROM_STORE)


def offenders(root: Path) -> list[str]:
    problems = []
    for path in sorted(root.rglob("*.py")):
        relative = path.relative_to(root)
        if relative.parts[0] == "store" or str(relative) in STORE_SIDE:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        problems += [f"{relative}:{line}: imports {name}"
                     for line, name in imported(tree) if violation(name)]
    return problems


def test_the_rule_catches_what_it_is_for(tmp_path: Path) -> None:
    (tmp_path / "engine").mkdir()
    (tmp_path / "engine" / "bad.py").write_text(
        "import sqlalchemy as sa\n"
        "from incidentflow.store.database import Database\n"
        "def later():\n    from incidentflow.store import sql\n"
        "from incidentflow.store.port import Store\n"
        "from incidentflow.store import open_store\n"
        "from incidentflow.store.loop_bridge import answered\n"
        "from incidentflow.store.async_port import AsyncStore\n")
    assert offenders(tmp_path) == [
        "engine/bad.py:1: imports sqlalchemy",
        "engine/bad.py:2: imports incidentflow.store.database.Database",
        "engine/bad.py:7: imports incidentflow.store.loop_bridge.answered",
        "engine/bad.py:4: imports incidentflow.store.sql",  # walked after the top level
    ]


def test_nothing_above_the_store_imports_its_implementation() -> None:
    assert len(list(PACKAGE.rglob("*.py"))) > 50  # really walked the package
    assert offenders(PACKAGE) == []
