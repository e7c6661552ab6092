"""Statements written in SQL, for the desk's hot path (a desk presses "finish and call next" all
day). Measured there, the ORM spends about ten times what the database takes to answer a small
locked read building and compiling the query anew on every call. These run fixed SQL: reads make
the model instances as the ORM does (`Model.from_db`, through the backend's and the fields'
converters) and writes take the values as `save()` does (`pre_save`, `get_db_prep_save`), so the
rest of the code sees the same objects. Elsewhere, the ORM.

`columns(Model, alias)` writes a model's columns in the order `fetch_one` reads them back; a row
of a join may hold several models side by side."""

from __future__ import annotations

from functools import lru_cache

from django.db import DatabaseError, connection
from django.db.models import Model
from django.db.transaction import TransactionManagementError


def quoted(name: str) -> str:
    return connection.ops.quote_name(name)


def table(model: type[Model]) -> str:
    return quoted(model._meta.db_table)


def columns(model: type[Model], alias: str | None = None) -> str:
    """The model's columns, in the order of its concrete fields (`alias.` before each)."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quoted(field.column) for field in model._meta.concrete_fields)


def marks(values) -> str:
    """One `%s` per value, for `IN (…)`."""
    return ", ".join(["%s"] * len(values))


def update_returning(model: type[Model], assignments: str, conditions: str, params: list):
    """`UPDATE <model's table> SET <assignments> WHERE <conditions>`, one statement: the row it
    changed, as it is now, or None when no row met the conditions (a compare-and-set: the page
    was out of date). Row locks make a concurrent change of the same row wait; the conditions are
    then checked again on what it left. `params` fill the %s of both, in order."""
    found = fetch_one(
        f"UPDATE {table(model)} SET {assignments} WHERE {conditions} "  # noqa: S608
        f"RETURNING {columns(model)}",
        params,
        model,
    )
    return found[0] if found else None


def for_update(*, of: str, skip_locked: bool = False) -> str:
    """`FOR UPDATE OF <of>` where the database locks rows (PostgreSQL); nothing on SQLite, which
    locks the whole database for the transaction's write anyway. As the ORM's, only within a
    transaction: the lock would end with the statement."""
    if not connection.in_atomic_block:
        raise TransactionManagementError("A locked read needs a transaction.")
    if not connection.features.has_select_for_update:
        return ""
    features = connection.features
    skip = " SKIP LOCKED" if skip_locked and features.has_select_for_update_skip_locked else ""
    return f" FOR UPDATE OF {of}{skip}"


@lru_cache(maxsize=64)
def _reader(model: type[Model], ops) -> tuple[list[str], list[tuple[object, list]]]:
    """The attribute names of the model's concrete fields and, for each, its column and the
    converters its values pass through (as the compiler applies them), for the backend `ops`."""
    fields = model._meta.concrete_fields
    converting = []
    for field in fields:
        column = field.get_col(model._meta.db_table)
        converters = ops.get_db_converters(column) + column.get_db_converters(ops.connection)
        converting.append((column, converters))
    return [field.attname for field in fields], converting


def _instance(model: type[Model], values: tuple) -> Model:
    names, converting = _reader(model, connection.ops)
    if any(converters for _column, converters in converting):
        values = list(values)
        for i, (column, converters) in enumerate(converting):
            for converter in converters:
                values[i] = converter(values[i], column, connection)
    return model.from_db(connection.alias, names, values)


def fetch_one(sql: str, params: list, *models: type[Model]) -> tuple[Model, ...] | None:
    """The first row of `sql` as one instance of each of `models` (their `columns`, in order);
    None when there is no row."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    instances, start = [], 0
    for model in models:
        width = len(model._meta.concrete_fields)
        instances.append(_instance(model, row[start : start + width]))
        start += width
    return tuple(instances)


def fetch_values(sql: str, params: list) -> list:
    """The first column of every row of `sql`."""
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [row[0] for row in cursor.fetchall()]


def insert(*instances: Model) -> None:
    """`Model.objects.bulk_create(instances)` (all of one model, not saved yet) in one fixed
    statement that sets their ids, as `save()` would. No signals: the models written here have
    no receivers."""
    model = type(instances[0])
    meta = model._meta
    fields = [
        field
        for field in meta.concrete_fields
        if field is not meta.auto_field and not field.generated
    ]
    values = [
        field.get_db_prep_save(_plain(field.pre_save(instance, True)), connection)
        for instance in instances
        for field in fields
    ]
    row = f"({marks(fields)})"
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table(model)} ({', '.join(quoted(f.column) for f in fields)}) "  # noqa: S608
            f"VALUES {', '.join([row] * len(instances))} RETURNING {quoted(meta.pk.column)}",
            values,
        )
        ids = [found[0] for found in cursor.fetchall()]
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding, instance._state.db = False, connection.alias


def update(instance: Model, fields: list[str]) -> None:
    """`instance.save(update_fields=fields)` in one fixed statement (no signals, as `insert`);
    a row that is gone raises as `save` does."""
    targets = [instance._meta.get_field(name) for name in fields]
    values = [
        field.get_db_prep_save(_plain(field.pre_save(instance, False)), connection)
        for field in targets
    ]
    assignments = ", ".join(f"{quoted(field.column)} = %s" for field in targets)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table(type(instance))} SET {assignments} "  # noqa: S608
            f"WHERE {quoted(instance._meta.pk.column)} = %s",
            [*values, instance.pk],
        )
        if cursor.rowcount != 1:
            raise DatabaseError("Save with update_fields did not affect any rows.")


def _plain(value):
    """A value as written: an expression (F(), a database default) is the ORM's to compile."""
    if hasattr(value, "resolve_expression"):
        raise TypeError(f"rows writes plain values, not {type(value).__name__}: use the ORM")
    return value
