"""``executemany`` for the writer's hot statements, without SQLAlchemy's per-row work.

``Connection.execute(statement, rows)`` builds each row's parameters through the
compiled statement's generic machinery (``construct_params``, one processor call per
value): for the finishes of a batch that was the largest share of the writer thread.
A ``BulkStatement`` compiles its statement once per dialect, keeps one converter per
parameter (the type's own bind processor, or a faster equivalent), and hands the
converted rows straight to the driver cursor, inside the connection's transaction.
The stored values are the ones SQLAlchemy would store (``tests/store`` checks).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Dialect
from sqlalchemy.sql.dml import UpdateBase

from incidentflow.store.schema import UTCDateTime

Converter = Callable[[Any], Any]


def sqlite_time(value: datetime | None) -> str | None:
    """What SQLAlchemy's SQLite ``DATETIME`` stores for an aware UTC time (naive UTC,
    always six digits of microseconds, so the strings compare as the times do)."""
    if value is None:
        return None
    text = _TIMES.get(value)  # a batch's rows share their times: convert each once
    if text is not None:
        return text
    zone = value.tzinfo
    if zone is None:
        raise ValueError("naive datetime given to the store; pass an aware UTC time")
    utc = value if zone is UTC else value.astimezone(UTC)
    text = utc.isoformat(" ", "microseconds")[:26]  # without "+00:00"
    if len(_TIMES) >= _TIMES_KEPT:
        _TIMES.clear()
    _TIMES[value] = text  # dict operations are atomic: safe to share between threads
    return text


_TIMES: dict[datetime, str] = {}
_TIMES_KEPT = 4096


def _json(processor: Converter, dialect: str) -> Converter:
    """The JSON processor, with the values every finish writes (no resolved config,
    no error details) converted once instead of once per row, and an event's data
    passed through unchanged (a noop's, a filter's) converted once for both rows."""
    none, empty = processor(None), processor({})

    def convert(value: Any) -> Any:
        if value is None:
            return none
        if type(value) is dict:
            return _encoded(value, processor, dialect) if value else empty
        return processor(value)

    return convert


def _encoded(value: dict[str, Any], processor: Converter, dialect: str) -> Any:
    """``processor(value)``, reusing the conversion of this very object if it was
    converted recently. An event handed from its delivery to the local worker and
    passed on unchanged is the same object in both rows, and encoding ~1 KB of JSON
    was a tenth of a delivery's CPU. Sound because a stored event is never changed in
    place (``Event`` is frozen and no code mutates its data: components emit new
    events); the object is kept with its text, so its id cannot be reused meanwhile."""
    key = (id(value), dialect)
    kept = _ENCODED.pop(key, None)  # a second use is the last one worth keeping for
    if kept is not None and kept[0] is value:
        return kept[1]
    converted = processor(value)
    if len(_ENCODED) >= _ENCODED_KEPT:  # bounded: the events of the batches in flight
        _ENCODED.clear()
    _ENCODED[key] = (value, converted)
    return converted


_ENCODED: dict[tuple[int, str], tuple[Any, Any]] = {}
_ENCODED_KEPT = 256


_FROM_ROW: Any = object()


@dataclass(frozen=True)
class _Compiled:
    sql: str
    names: tuple[str, ...]
    converters: tuple[Converter | None, ...]
    # per parameter: _FROM_ROW, or the value the statement itself gives it
    # (``.values(state="succeeded")``)
    constants: tuple[Any, ...]
    positional: bool


class BulkStatement:
    def __init__(self, statement: UpdateBase, columns: Sequence[str] | None = None):
        """``columns``: for an INSERT, the keys every row has (in any order)."""
        self._statement = statement
        self._columns = list(columns) if columns is not None else None
        self._compiled: dict[str, _Compiled] = {}

    def execute(self, conn: Connection, rows: Sequence[dict[str, Any]]) -> None:
        if not rows:
            return
        compiled = self._for(conn.dialect)
        taken = tuple(zip(compiled.names, compiled.constants, strict=True))
        conversions = [(index, convert) for index, convert in enumerate(compiled.converters)
                       if convert is not None]
        params: list[Any] = []
        for row in rows:
            values = [row[name] if constant is _FROM_ROW else constant
                      for name, constant in taken]
            for index, convert in conversions:
                values[index] = convert(values[index])
            params.append(tuple(values) if compiled.positional
                          else dict(zip(compiled.names, values, strict=True)))
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        driver_error = conn.dialect.loaded_dbapi.Error
        try:
            cursor.executemany(compiled.sql, params)
        except driver_error as exc:
            # SQLAlchemy's exception, as ``conn.execute`` raises: callers (a UNIQUE
            # violation's savepoint, store.driver_errors) need not know the driver.
            raise sa.exc.DBAPIError.instance(compiled.sql, None, exc, driver_error,
                                             dialect=conn.dialect) from exc
        finally:
            cursor.close()

    def _for(self, dialect: Dialect) -> _Compiled:
        found = self._compiled.get(dialect.name)
        if found is None:
            found = self._compiled[dialect.name] = self._compile(dialect)
        return found

    def _compile(self, dialect: Dialect) -> _Compiled:
        compiled: Any = self._statement.compile(dialect=dialect, column_keys=self._columns)
        # Each parameter by the name it has in the SQL text (in order, when positional).
        by_name = {name: bind for bind, name in compiled.bind_names.items()}
        names = tuple(compiled.positiontup) if compiled.positional else tuple(by_name)
        binds = [by_name[name] for name in names]
        converters = tuple(_converter(bind.type, dialect) for bind in binds)
        constants = tuple(_FROM_ROW if bind.required else bind.value for bind in binds)
        return _Compiled(compiled.string, names, converters, constants,
                         bool(compiled.positional))


def _converter(type_: Any, dialect: Dialect) -> Converter | None:
    if isinstance(type_, UTCDateTime) and dialect.name == "sqlite":
        return sqlite_time
    processor: Converter | None = type_.dialect_impl(dialect).bind_processor(dialect)
    if processor is not None and isinstance(type_, sa.JSON):
        return _json(processor, dialect.name)
    return processor
