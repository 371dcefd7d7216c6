"""Bulk inserts with COPY: the writer of a bulk path (the demo generator) once the owner services have built
and checked its rows.

`bulk_create` turns each batch into SQL text with one placeholder per value, which PostgreSQL then parses;
for hundreds of thousands of rows the compiling alone costs more than PostgreSQL's work. COPY streams the
values, so the cost left is the rows themselves. The rows are the owners' model instances, with the values
each field would save (defaults, `auto_now`), so that a row written here equals one `save()` would write.

The embedded SQLite has no COPY: there the rows go through `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from operator import attrgetter

from django.db import connections, models, router
from django.db.models import Model

# Field classes (exactly these, not subclasses) whose value goes to PostgreSQL as the instance holds it: their
# pre_save reads the attribute and their get_db_prep_save gives the value back (after a type check a builder's
# value already passes). Every other field, and any with auto_now or auto_now_add, goes through both, as
# save() would. The generic path cost twice the COPY itself (docs/performance.md, point 5).
_AS_HELD = {
    models.AutoField,
    models.BigAutoField,
    models.BigIntegerField,
    models.BooleanField,
    models.CharField,
    models.DateField,
    models.IntegerField,
    models.PositiveBigIntegerField,
    models.PositiveIntegerField,
    models.PositiveSmallIntegerField,
    models.SmallIntegerField,
    models.TextField,
    models.UUIDField,
}


def copy_insert(model: type[Model], objs: Iterable[Model], *, batch_size: int = 5000) -> int:
    """Insert the instances in one COPY (bulk_create off PostgreSQL); return how many were written.

    Instances without a primary key get one from the table's sequence first, as bulk_create's RETURNING
    would give them, so that rows built next can point at them.
    """
    objs = list(objs)
    if not objs:
        return 0
    alias = router.db_for_write(model)
    connection = connections[alias]
    if connection.vendor != "postgresql":
        model._default_manager.using(alias).bulk_create(objs, batch_size=batch_size)
        return len(objs)
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated]
    quote = connection.ops.quote_name
    for obj in objs:  # a row built beside an unsaved parent takes the parent's key now, as bulk_create does
        obj._prepare_related_fields_for_save(operation_name="copy_insert")
    with connection.cursor() as cursor, connection.wrap_database_errors:  # IntegrityError, as from bulk_create
        _allocate_keys(cursor, model, [obj for obj in objs if obj.pk is None])
        columns = ", ".join(quote(f.column) for f in fields)
        readers = _readers(fields, connection)
        with cursor.cursor.copy(f"COPY {quote(opts.db_table)} ({columns}) FROM STDIN") as copy:
            for obj in objs:
                copy.write_row([read(obj) for read in readers])
    for obj in objs:
        obj._state.adding = False
        obj._state.db = alias
    return len(objs)


def _allocate_keys(cursor, model: type[Model], objs: list[Model]) -> None:
    if not objs:
        return
    opts = model._meta
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1",
        [opts.db_table, opts.pk.column, len(objs)],
    )
    for obj, (key,) in zip(objs, cursor.fetchall(), strict=True):
        obj.pk = key


def _as_held(field) -> bool:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return False
    if isinstance(field, models.ForeignKey) and type(field) in {models.ForeignKey, models.OneToOneField}:
        return _as_held(field.target_field)
    return type(field) in _AS_HELD


def _readers(fields, connection) -> list[Callable[[Model], object]]:
    """For each field, what reads its column's value off an instance (see _AS_HELD)."""

    def prepared(field):
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), connection)

    return [attrgetter(field.attname) if _as_held(field) else prepared(field) for field in fields]
