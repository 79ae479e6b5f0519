"""Units of work of a parallel run (import as ``parallel``; the scheduler that uses them
is in tests/conftest.py).

`make test` spreads the tests over pytest-xdist workers (see the Makefile), a module at
a time (its module-scoped servers start once, and a browser scenario's steps stay in
order). The paced lane is one unit of work, run on one worker one test after another:
the tests that assert on real time (a wait fires within a second of its time, a budget
stops a template in time) together with the tests that load the machine themselves
(load proofs, benchmarks, hostile templates), so that no paced test runs beside one of
those hogs. The rest mostly waits on sockets and databases and shares the other workers.
(xdist's own ``xdist_group`` mark rests on a node id rewrite that pytest 9.2 ignores:
the scheduler reads node ids instead.)
"""

from __future__ import annotations

PACED = (
    "tests/time/",
    "tests/e2e/test_time_e2e.py",
    "tests/e2e/test_approval_e2e.py",
    "tests/e2e/test_expression_budgets_e2e.py",
    "tests/reliability/",
    "tests/bench/",
    "tests/expressions/test_expression_budgets.py",
    "tests/engine/test_engine_budgets.py",
    "tests/web/test_runaway_api.py",
    "tests/ui/test_budget_previews.py",
)


# Long units handed out first, so that none of them starts last and runs alone: browser
# scenarios and end-to-end modules (servers as child processes). xdist orders the rest
# by their number of tests.
EARLY = (
    "tests/ui/test_browser",
    "tests/ui/test_secrets_browser.py",
    "tests/ui/test_integration_rekey.py",
    "tests/e2e/",
    "tests/security/test_schemathesis.py",
    "tests/cli/test_cli_recovery.py",
)


def work_unit(nodeid: str) -> str:
    """What runs on one worker, in order: the paced lane, or the test's module."""
    return "paced" if nodeid.startswith(PACED) else nodeid.split("::", 1)[0]




def start_rank(unit: str) -> int:
    """When a unit is handed out: the paced lane first, then the long ones, the rest."""
    if unit == "paced":
        return 0
    return 1 if unit.startswith(EARLY) else 2
