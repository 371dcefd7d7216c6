"""Lookups whose SQL Django would build and compile again on every request, compiled once per process.

`Model.objects.get(pk=x)` builds a query, resolves its lookups and compiles it each time: about 0.3 ms of
Python, more than PostgreSQL takes to answer it by the primary key. Authentication does this on every API
request (the login's row, for its token_version). `get_by_pk` keeps the compiled statement per model and
database, and builds the instance with `from_db`, as a queryset would.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import connections, router
from django.db.models import Model

_STATEMENTS: dict[tuple[str, str], tuple[str, list[str], list]] = {}


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
    with connection.cursor() as cursor:
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
