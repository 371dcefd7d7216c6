"""Reads whose SQL Django would build and compile again on every request, compiled once per process.

`Model.objects.get(pk=x)` builds a query, resolves its lookups and compiles it each time: about 0.3 ms of
Python, more than PostgreSQL takes to answer it by the primary key. Authentication does this on every API
request (the login's row, for its token_version). `get_by_pk` keeps the compiled statement per model and
database, and builds the instance with `from_db`, as a queryset would.

Both run on a prepared cursor (`prepared_cursor`): PostgreSQL plans them once per session too.

`Compiled` does the same for any values queryset whose SQL differs between requests only by one value (a
scope's unit id): built once with a stand-in for that value, then run with the real one, its rows converted
as the queryset's compiler would convert them.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Model, QuerySet

_STATEMENTS: dict[tuple[str, str], tuple[str, list[str], list]] = {}


def prepared_cursor(connection):
    """A cursor of `connection` whose statements PostgreSQL plans once per session (config.postgresql), for a
    statement compiled once per process and run on every request; an ordinary cursor on another backend.
    Not for a statement whose SQL changes between runs: preparing costs a round trip of its own."""
    make = getattr(connection, "prepared_cursor", None)
    return make() if make is not None else connection.cursor()


def get_by_pk(model: type[Model], pk) -> Model | None:
    """The row of `model` with this primary key, as the default manager's `get(pk=pk)` reads it; None if none."""
    opts = model._meta
    try:
        value = opts.pk.to_python(pk)
    except ValidationError:
        return None
    alias = router.db_for_read(model)
    key = (opts.label, alias)
    statement = _STATEMENTS.get(key)
    if statement is None:
        statement = _STATEMENTS[key] = _compile(model, alias)
    sql, names, converters = statement
    connection = connections[alias]
    with prepared_cursor(connection) as cursor:
        cursor.execute(sql, [opts.pk.get_db_prep_value(value, connection)])
        row = cursor.fetchone()
    if row is None:
        return None
    if converters:
        row = list(row)
        for i, col, functions in converters:
            for convert in functions:
                row[i] = convert(row[i], col, connection)
    return model.from_db(alias, names, row)


def _compile(model: type[Model], alias: str) -> tuple[str, list[str], list]:
    """The SELECT of every concrete column by primary key, and each column's converters (as the compiler's)."""
    fields = model._meta.concrete_fields
    names = [field.attname for field in fields]
    sql, params = model._default_manager.using(alias).filter(pk=0).values_list(*names).query.sql_with_params()
    if list(params) != [0]:
        raise RuntimeError(f"{model._meta.label}: expected one parameter, the primary key; got {params!r}")
    connection = connections[alias]
    converters = []
    for i, field in enumerate(fields):
        col = field.get_col(model._meta.db_table)
        functions = connection.ops.get_db_converters(col) + col.get_db_converters(connection)
        if functions:
            converters.append((i, col, functions))
    return sql, names, converters


class Compiled:
    """A values_list queryset compiled once; `rows(value)` runs it with `value` wherever the stand-in was.

    The stand-in must appear among the parameters exactly `expected` times (raises otherwise), so that a
    statement can never keep the stand-in's rows or another requester's value. `suffix` (with its own
    parameters) is appended to the SQL: LIMIT and OFFSET for a page.
    """

    def __init__(self, queryset: QuerySet, stand_in, expected: int):
        self.alias = queryset.db
        compiler = queryset.query.get_compiler(using=self.alias)
        self.sql, params = compiler.as_sql()
        self.params = list(params)
        self.slots = [i for i, param in enumerate(self.params) if param == stand_in]
        if len(self.slots) != expected:
            raise RuntimeError(f"expected the stand-in {expected} time(s) in the parameters, found {self.params!r}")
        columns = [selected[0] for selected in compiler.select[: compiler.col_count]]
        self.converters = [(i, functions, col) for i, (functions, col) in compiler.get_converters(columns).items()]

    def rows(self, value=None, suffix: str = "", suffix_params: Sequence = ()) -> list[tuple]:
        params = list(self.params)
        for i in self.slots:
            params[i] = value
        connection = connections[self.alias]
        with prepared_cursor(connection) as cursor:
            cursor.execute(self.sql + suffix, [*params, *suffix_params])
            rows = cursor.fetchall()
        if not self.converters:
            return rows
        converted = []
        for row in rows:
            row = list(row)
            for i, functions, col in self.converters:
                for convert in functions:
                    row[i] = convert(row[i], col, connection)
            converted.append(tuple(row))
        return converted


class CompiledPage:
    """What a paginator slices (config.pagination.CountedApart's rows): each slice one run of `statement`
    with LIMIT and OFFSET; `statement` must be ordered (and unsliced)."""

    ordered = True

    def __init__(self, statement: Compiled, value):
        self.statement, self.value = statement, value

    def __getitem__(self, key: slice) -> list[tuple]:
        if not isinstance(key, slice) or key.step is not None or key.start is None or key.stop is None:
            raise TypeError("a page is a slice [start:stop]")
        return self.statement.rows(self.value, " LIMIT %s OFFSET %s", [max(key.stop - key.start, 0), key.start])
