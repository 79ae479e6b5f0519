from datetime import UTC, datetime

import pytest

from incidentflow.components.retry_after import parse_retry_after

NOW = datetime(2026, 1, 19, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "value, expected",
    [
        ("0", 0.0),
        ("7", 7.0),
        (" 12 ", 12.0),
        ("Mon, 19 Jan 2026 12:00:10 GMT", 10.0),
        ("Mon, 19 Jan 2026 11:00:00 GMT", 0.0),  # already past: retry now
        (None, None),
        ("", None),
        ("soon", None),
        ("-5", None),
    ],
)
def test_parse_retry_after(value, expected):
    assert parse_retry_after(value, NOW) == expected
