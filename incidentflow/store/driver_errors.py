"""Driver errors become the project's own: the one place that reads SQLAlchemy's.

A lost connection or a restarting server is ``errors.StoreUnavailable`` for every
caller of the store (the engine then lets a lease expire instead of failing an
execution for good); any other error is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from incidentflow.errors import StoreUnavailable


def unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached, as opposed to a
    statement that failed on its own data."""
    if isinstance(exc, sa.exc.DBAPIError) and exc.connection_invalidated:
        return True
    return isinstance(exc, sa.exc.OperationalError | sa.exc.InterfaceError)


def translated(exc: BaseException) -> BaseException:
    """``StoreUnavailable`` (caused by ``exc``) for an unreachable database, else ``exc``."""
    if isinstance(exc, StoreUnavailable) or not unavailable(exc):
        return exc
    error = StoreUnavailable(f"the database is unavailable: {type(exc).__name__}")
    error.__cause__ = exc
    return error


@contextmanager
def store_errors() -> Iterator[None]:
    """Raise ``StoreUnavailable`` instead of a driver's unreachable-database error."""
    try:
        yield
    except sa.exc.SQLAlchemyError as exc:
        error = translated(exc)
        if error is exc:
            raise
        raise error from exc
