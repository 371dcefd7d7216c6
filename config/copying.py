"""Bulk inserts with COPY: the writer of a bulk path (the demo generator) once the owner services have built
and checked its rows.

`bulk_create` turns each batch into SQL text with one placeholder per value, which PostgreSQL then parses;
for hundreds of thousands of rows the compiling alone costs more than PostgreSQL's work. COPY streams the
values, so the cost left is the rows themselves. The rows are the owners' model instances, with the values
each field would save (defaults, `auto_now`), so that a row written here equals one `save()` would write.

The embedded SQLite has no COPY: there the rows go through `bulk_create`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from contextlib import contextmanager
from operator import attrgetter

from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, router
from django.db.models import Model
from django.utils import timezone

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
    for obj, key in zip(objs, _sequence_take(cursor, model, len(objs)), strict=True):
        obj.pk = key


def _sequence_take(cursor, model: type[Model], n: int) -> list[int]:
    """n keys from the table's sequence, in ascending order."""
    opts = model._meta
    cursor.execute(
        "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s) ORDER BY 1",
        [opts.db_table, opts.pk.column, n],
    )
    return [key for (key,) in cursor.fetchall()]


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


# --- Rows as tuples: the bulk paths that build many rows build no instances ---------------------------


class RowShape:
    """The columns of a model's rows that a builder gives as tuples, in order; COPY fills the rest as save() would.

    Building a model instance costs more than the COPY of its row (Model.__init__ runs every field's descriptor),
    so the generator's owners build plain tuples of these columns instead. Every other concrete field must be
    one whose value is known without the row: a constant default, NULL, the write's time (auto_now,
    auto_now_add), or an AutoField key, which copy_rows takes from the table's sequence and returns.
    """

    def __init__(self, model: type[Model], given: Sequence[str]):
        opts = model._meta
        fields = {f.attname: f for f in opts.concrete_fields if not f.generated}
        unknown = [name for name in given if name not in fields]
        if unknown:
            raise ImproperlyConfigured(f"{opts.label} has no columns {unknown}")
        self.model = model
        self.given = tuple(given)
        self.allocates_key = opts.pk.attname not in self.given
        if self.allocates_key and not isinstance(opts.pk, models.AutoField):
            raise ImproperlyConfigured(f"{opts.label}: a key that is not an AutoField must be given")
        self._timed: list[str] = []  # filled with the write's time
        self._fixed: dict[str, models.Field | None] = {}  # the same value in every row: the field's default, or NULL
        for name, field in fields.items():
            if name in self.given or field is opts.pk:
                continue
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                self._timed.append(name)
            elif field.has_default() and not callable(field.default):
                self._fixed[name] = field
            elif field.null and not field.has_default():
                self._fixed[name] = None
            else:
                raise ImproperlyConfigured(f"{opts.label}.{name} has no value a row can do without")
        key = (opts.pk.attname,) if self.allocates_key else ()
        self.attnames = key + self.given + tuple(self._fixed) + tuple(self._timed)
        self.columns = [fields[name].column for name in self.attnames]

    def kwargs(self, row: tuple) -> dict:
        """A row's given values by attribute name, for the model's constructor."""
        return dict(zip(self.given, row, strict=True))

    def tail(self, connection=None) -> tuple:
        """The values after the given ones, for rows written now: as the database takes them on `connection`, or as
        an instance holds them without one."""
        fixed = (
            None
            if field is None
            else field.get_default()
            if connection is None
            else field.get_db_prep_save(field.get_default(), connection)
            for field in self._fixed.values()
        )
        now = timezone.now()
        return (*fixed, *(now for _name in self._timed))


def copy_rows(shape: RowShape, rows: Iterable[tuple]) -> list:
    """Insert the rows (tuples of shape.given) in one COPY (bulk_create off PostgreSQL); return their keys in order,
    taken from the table's sequence when the shape leaves the key out.

    Rows that carry their key may come from a generator: each is sent as it is built, so that PostgreSQL stores
    the rows while the next are drawn. Keys from the sequence need the count first, so those rows are gathered.
    """
    model = shape.model
    alias = router.db_for_write(model)
    connection = connections[alias]
    if shape.allocates_key or connection.vendor != "postgresql":
        rows = list(rows)
        if not rows:
            return []
    if connection.vendor != "postgresql":
        tail = shape.tail()
        objs = [model(**dict(zip(shape.attnames[shape.allocates_key :], row + tail, strict=True))) for row in rows]
        model._default_manager.using(alias).bulk_create(objs)
        return [obj.pk for obj in objs]
    tail = shape.tail(connection)
    quote = connection.ops.quote_name
    columns = ", ".join(quote(column) for column in shape.columns)
    with connection.cursor() as cursor, connection.wrap_database_errors:
        keys = _sequence_take(cursor, model, len(rows)) if shape.allocates_key else []
        with cursor.cursor.copy(f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN") as copy:
            write = copy.write_row
            if shape.allocates_key:
                for key, row in zip(keys, rows, strict=True):
                    write((key, *row, *tail))
            else:
                at = shape.given.index(model._meta.pk.attname)
                for row in rows:
                    keys.append(row[at])
                    write(row + tail)
    return keys


@contextmanager
def foreign_keys_checked_once(*models_: type[Model]):
    """Within the caller's transaction, check the tables' foreign keys once at the end (one join a key) instead
    of once a row: a bulk load's per-row checks cost PostgreSQL more than the COPY itself
    (docs/performance.md, point 5). The keys are dropped, and added back with the same names and definitions,
    which validates every row; a row that breaks one raises IntegrityError there and the transaction rolls back.

    ALTER TABLE locks the tables and those they point at until the transaction ends: for loads that replace a
    registry (the demo generator), not for writes beside live traffic. Off PostgreSQL, nothing changes.
    """
    connection = connections[router.db_for_write(models_[0])]
    if connection.vendor != "postgresql":
        yield
        return
    if not connection.in_atomic_block:
        raise RuntimeError("foreign_keys_checked_once runs inside a transaction")
    tables = [model._meta.db_table for model in models_]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE contype = 'f' AND conrelid = ANY(%s::regclass[]) ORDER BY conrelid, conname",
            [tables],
        )
        keys = cursor.fetchall()
        _deferred_checks_run(cursor)
        for table, name, _definition in keys:
            cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {connection.ops.quote_name(name)}")
    yield
    with connection.cursor() as cursor, connection.wrap_database_errors:
        _deferred_checks_run(cursor)
        for table, name, definition in keys:
            cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {connection.ops.quote_name(name)} {definition}")


def _deferred_checks_run(cursor) -> None:
    """Run the constraint checks the transaction has deferred so far (ALTER TABLE refuses a table that has some
    pending), then defer them again: every deferrable constraint of the schema is INITIALLY DEFERRED."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
