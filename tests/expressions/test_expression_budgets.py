"""Every evaluation runs under budgets: time, output size, integer size, iterations.

Hostile templates (the issue's among them) fail fast with a BudgetError naming node,
field, the budget, its limit and the setting that raises it; ordinary templates are
untouched and plain lookups keep their native types.
"""

from __future__ import annotations

import time

import pytest

from bench.hostile import HOSTILE_LOOP
from incidentflow.errors import ExpressionError
from incidentflow.expression_budget import Budget, BudgetError
from incidentflow.expressions import EXPRESSIONS
from incidentflow.settings import Settings

SCOPE = {
    "root": {"type": "t", "timestamp": "ts",
             "data": {"incident": {"name": "DB down", "severity": "major", "id": 42},
                      "tags": ["db", "prod"], "count": 3}},
    "previous": {"type": "t", "timestamp": "ts", "data": {}},
    "nodes": {},
    "run": {"id": "r", "canvas": "c"},
}
SETTING = {
    "time": "INCIDENTFLOW_EXPRESSION_TIMEOUT_SECONDS",
    "output": "INCIDENTFLOW_EXPRESSION_MAX_OUTPUT_BYTES",
    "integer": "INCIDENTFLOW_EXPRESSION_MAX_INTEGER_DIGITS",
    "iterations": "INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS",
}


def breach(template: str, budget: Budget | None = None, *, condition: bool = False,
           ) -> BudgetError:
    started = time.monotonic()
    with pytest.raises(BudgetError) as caught:
        if condition:
            EXPRESSIONS.evaluate(template, SCOPE, "Notify", "expression", budget)
        else:
            EXPRESSIONS.render(template, SCOPE, "Notify", "body", budget)
    limit = (budget or Budget()).timeout_seconds
    # Refused before the value is built (or at the deadline): never minutes, never GBs.
    assert time.monotonic() - started < limit + 1.0
    return caught.value


def test_the_issue_loop_is_stopped_by_the_iteration_budget():
    error = breach(HOSTILE_LOOP)
    assert isinstance(error, ExpressionError)
    assert (error.node, error.field, error.budget) == ("Notify", "body", "iterations")
    assert error.limit == 100_000 and error.setting == SETTING["iterations"]
    assert str(error) == (
        "Notify.body: over the iterations budget: too many loop iterations, calls and "
        "filters (limit 100,000 iterations; raise it with "
        "INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS)")


def test_the_issue_loop_is_stopped_by_the_clock_when_iterations_are_unlimited():
    budget = Budget(timeout_seconds=0.3, max_iterations=10**12)
    started = time.monotonic()
    error = breach(HOSTILE_LOOP, budget)
    assert time.monotonic() - started >= 0.3
    assert (error.budget, error.limit, error.setting) == ("time", 0.3, SETTING["time"])
    assert "over the time budget: still running (limit 0.3 s" in error.detail


@pytest.mark.parametrize(
    "template",
    [
        "{{ 'a'|center(10000000) }}",  # the issue's example
        "Body: {{ 'a'|center(10000000) }}",
        "{{ 'a'.center(10000000) }}",
        "{{ 'a'.ljust(10000000) }}",
        "{{ 'a'.zfill(10000000) }}",
        "{{ (1).to_bytes(100000000, 'big') }}",
        "{{ '%100000000s'|format('a') }}",
        "{{ '%100000000s' % 'a' }}",
        "{{ '%*s' % (100000000, 'a') }}",
        "{{ '%.100000000f' % 1.5 }}",
        "{{ '{:>100000000}'.format('a') }}",
        "{{ '{:>{w}}'.format('a', w=100000000) }}",
        "{{ range(100000)|join('x' * 100000) }}",
        "{{ ('x' * 100000).join(['a'] * 100000) }}",
        "{{ ('a' * 100000)|replace('a', 'b' * 1000) }}",
        "{{ ('a' * 100000).replace('a', 'b' * 1000) }}",
        "{{ ('a\n' * 100000)|indent(1000) }}",
        "{{ ('a ' * 100000)|wordwrap(1, wrapstring='x' * 1000) }}",
        "{{ [1]|batch(100000000, 'x')|list }}",
        "{{ [1]|slice(100000000)|list }}",
        "{{ 'a' * 2000000 }}",
        "{{ [0] * 2000000 }}",
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
        "{% set ns = namespace(s='a') %}{% for i in range(40) %}"
        "{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|length }}",
        "{% for i in range(100000) %}{{ 'x' * 1000 }}{% endfor %}",
        "{% for i in range(5000) %}" + "plain text " * 30 + "{% endfor %}",
        "{% set x %}{% for i in range(90000) %}{{ 'x' * 1000 }}{% endfor %}{% endset %}"
        "{{ x|length }}",
    ],
)
def test_values_over_the_output_budget_are_refused(template):
    error = breach(template)
    assert (error.budget, error.limit, error.setting) == ("output", 1_048_576,
                                                          SETTING["output"])
    assert "(limit 1,048,576 bytes; raise it with INCIDENTFLOW_EXPRESSION_MAX_OUTPUT_BYTES)" \
        in error.detail


@pytest.mark.parametrize(
    "template",
    [
        "{{ 2 ** 100000 }}",
        "{{ (10 ** 999) * (10 ** 999) }}",
        "{% set ns = namespace(x=2) %}{% for i in range(40) %}"
        "{% set ns.x = ns.x * ns.x %}{% endfor %}{{ ns.x }}",
        "{{ ('9' * 1200)|int * 10 }}",
    ],
)
def test_integers_over_the_digit_budget_are_refused(template):
    error = breach(template)
    assert (error.budget, error.limit, error.setting) == ("integer", 1_000, SETTING["integer"])


def test_recursion_that_doubles_without_loops_is_stopped():
    doubling = ("{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}"
                "{% endmacro %}{{ f(40) }}")
    assert breach(doubling).budget in ("iterations", "time")


def test_conditions_are_budgeted_too():
    assert breach("range(100000)|join('x' * 100000) == ''", condition=True).field == \
        "expression"
    assert breach("2 ** 100000 > 1", condition=True).budget == "integer"


def test_one_budget_covers_all_strings_of_a_field():
    # Each string alone is within 60,000 iterations; together they are not.
    loop = "{% for i in range(40000) %}{% endfor %}"
    budget = Budget(max_iterations=60_000)
    assert EXPRESSIONS.render({"a": loop}, SCOPE, "N", "body", budget) == {"a": ""}
    error = breach({"a": loop, "b": loop}, budget)  # type: ignore[arg-type]
    assert error.field == "body.b"


# -- each limit follows its setting ----------------------------------------------------------

def budget_from(**env: str) -> Budget:
    return Settings.from_env(env, data_dir="unused-budgets", secret_key="k",
                             admin_token="t").expression_budget


@pytest.fixture(autouse=True)
def _in_tmp(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # Settings.from_env creates its data directory


def test_defaults():
    assert budget_from() == Budget(1.0, 1_048_576, 1_000, 100_000)


def test_output_setting():
    budget = budget_from(INCIDENTFLOW_EXPRESSION_MAX_OUTPUT_BYTES="10")
    assert EXPRESSIONS.render("{{ 'a' * 10 }}", SCOPE, "N", "f", budget) == "a" * 10
    assert EXPRESSIONS.render("x{% for i in range(9) %}y{% endfor %}", SCOPE, "N", "f",
                              budget) == "x" + "y" * 9
    assert breach("{{ 'a' * 11 }}", budget).limit == 10
    assert breach("x{% for i in range(10) %}y{% endfor %}", budget).budget == "output"
    assert breach("{{ 'abcdef'|center(11) }}", budget).budget == "output"


def test_integer_setting():
    budget = budget_from(INCIDENTFLOW_EXPRESSION_MAX_INTEGER_DIGITS="5")
    assert EXPRESSIONS.render("{{ 9999 * 9 }}", SCOPE, "N", "f", budget) == 89991
    assert EXPRESSIONS.render("{{ 99998 + 1 }}", SCOPE, "N", "f", budget) == 99999
    for template in ("{{ 99999 + 1 }}", "{{ 10 ** 5 }}", "{{ 1000 * 1000 }}"):
        error = breach(template, budget)
        assert (error.budget, error.limit) == ("integer", 5)


def test_iterations_setting():
    # Calls count too: range() and the loop's start are two, then one per round.
    budget = budget_from(INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS="10")
    assert EXPRESSIONS.render("{% for i in range(8) %}{{ i }}{% endfor %}", SCOPE, "N", "f",
                              budget) == "01234567"
    error = breach("{% for i in range(9) %}{{ i }}{% endfor %}", budget)
    assert (error.budget, error.limit) == ("iterations", 10)
    assert breach("{{ range(20)|map('string')|join }}", budget).budget == "iterations"


def test_timeout_setting():
    budget = budget_from(INCIDENTFLOW_EXPRESSION_TIMEOUT_SECONDS="0.05",
                         INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS="1000000000000")
    assert budget.timeout_seconds == 0.05
    started = time.monotonic()
    error = breach(HOSTILE_LOOP, budget)
    assert error.budget == "time" and time.monotonic() - started < 0.5


@pytest.mark.parametrize(
    ("name", "value"),
    [("INCIDENTFLOW_EXPRESSION_TIMEOUT_SECONDS", "0"),
     ("INCIDENTFLOW_EXPRESSION_TIMEOUT_SECONDS", "soon"),
     ("INCIDENTFLOW_EXPRESSION_MAX_OUTPUT_BYTES", "-1"),
     ("INCIDENTFLOW_EXPRESSION_MAX_INTEGER_DIGITS", "1.5"),
     ("INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS", "many")],
)
def test_bad_settings_name_the_variable(name, value):
    with pytest.raises(ValueError, match=name):
        budget_from(**{name: value})


# -- ordinary templates are untouched ----------------------------------------------------------

@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{{ root.data.incident }}", {"name": "DB down", "severity": "major", "id": 42}),
        ("{{ root.data.incident.id }}", 42),
        ("{{ root.data.tags }}", ["db", "prod"]),
        ("{{ root['data']['count'] }}", 3),
        ("Incident {{ root.data.incident.name }} ({{ root.data.incident.severity }})",
         "Incident DB down (major)"),
        ("{{ root.data.missing|default('none') }}", "none"),
    ],
)
def test_plain_lookups_keep_native_types_and_run_inline(template, expected):
    assert EXPRESSIONS.render(template, SCOPE, "N", "f") == expected
    assert EXPRESSIONS.inline_safe(template)


@pytest.mark.parametrize(
    ("template", "expected"),
    [
        ("{% for t in root.data.tags %}{{ loop.index }}:{{ t }} {% endfor %}", "1:db 2:prod "),
        ("{{ root.data.tags|join(', ') }}", "db, prod"),
        ("{{ root.data.count * 2 + 1 }}", 7),
        ("{{ range(3)|list }}", [0, 1, 2]),
        ("{{ '%05d'|format(root.data.incident.id) }}", "00042"),
        ("{{ '{:>6}'.format(root.data.incident.name) }}", "DB down"),
        ("{{ 'INC-' ~ root.data.incident.id }}", "INC-42"),
        ("{{ root.data.incident.name|center(11) }}", "  DB down  "),
        ("{{ 1700000000 + root.data.count }}", 1700000003),
    ],
)
def test_ordinary_templates_work_and_go_to_the_pool(template, expected):
    assert EXPRESSIONS.render(template, SCOPE, "N", "f") == expected
    assert not EXPRESSIONS.inline_safe(template)


def test_conditions_that_compare_lookups_run_inline():
    assert EXPRESSIONS.inline_safe("root.data.incident.severity == 'major'", condition=True)
    assert EXPRESSIONS.inline_safe("root.data.count > 2 and 'db' in root.data.tags",
                                   condition=True)
    assert not EXPRESSIONS.inline_safe("root.data.tags|join == 'x'", condition=True)
    assert EXPRESSIONS.condition("root.data.count > 2 and 'db' in root.data.tags", SCOPE,
                                 "If", "expression") is True


def test_saving_a_hostile_template_does_not_run_it():
    started = time.monotonic()
    assert EXPRESSIONS.check_template("{{ 'a'|center(1000000000) }}" + HOSTILE_LOOP) is None
    assert time.monotonic() - started < 1.0


def test_evaluations_without_a_caller_budget_follow_the_process_settings():
    import os
    import subprocess
    import sys

    probe = ("from incidentflow.expressions import EXPRESSIONS\n"
             "try:\n"
             "    EXPRESSIONS.render('{% for i in range(4) %}{% endfor %}', {}, 'N', 'key')\n"
             "except Exception as exc:\n"
             "    print(exc)\n")
    env = {**os.environ, "INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS": "3"}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True,
                          text=True, timeout=60)
    assert "N.key: over the iterations budget" in done.stdout, done.stderr
    assert "(limit 3 iterations;" in done.stdout
