"""The session's secret scan (tests/_logscan.py) catches what it must, and only that."""

from __future__ import annotations

import logging

import _logscan

from incidentflow.log_setup import register_secret


def test_a_known_secret_in_a_line_is_a_leak() -> None:
    leaks = _logscan._leaks_in(["ok", "key=abcdef-secret-1 here"], "f", {"abcdef-secret-1"},
                               shapes=False)
    assert leaks == ["f:2: key=abcdef-secret-1 here"]


def test_secret_shapes_leak_in_child_logs_even_when_unknown() -> None:
    lines = ["sig whsec_QUJDREVGR0hJSktMTU5P", "Authorization: Bearer abcdefghijkl",
             "masked Bearer ••••••", "token ifa_zzzzzzzzzzzz"]
    leaks = _logscan._leaks_in(lines, "f", set(), shapes=True)
    assert [leak.split(":")[1] for leak in leaks] == ["1", "2", "4"]


def test_only_the_one_time_banner_token_is_allowed() -> None:
    lines = ["Admin token (shown once, kept in ", "/d/admin.token):", "ifa_banner_token_1",
             "later ifa_banner_token_1"]
    leaks = _logscan._leaks_in(lines, "f", {"ifa_banner_token_1"}, shapes=True)
    assert leaks == ["f:4: later ifa_banner_token_1"]


def test_a_secret_logged_before_it_was_registered_is_kept_for_the_scan() -> None:
    recorder = _logscan._Recorder()
    record = logging.LogRecord("t", logging.INFO, __file__, 1, "value %s", ("late-secret-77",),
                               None)
    recorder.emit(record)
    register_secret("late-secret-77")  # too late: the line was already written
    recorder.emit(record)
    assert recorder.lines == ["t: value late-secret-77", "t: value ••••••"]
    assert record.getMessage() == "value late-secret-77"  # other handlers see it unchanged
