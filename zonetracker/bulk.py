"""Reading and writing many rows at once, with their history: what rankings and imports
read and write in bulk."""

from __future__ import annotations

import datetime
from collections.abc import Iterator, Sequence

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router
from django.db.models import Model, QuerySet
from django.db.models.sql.constants import MULTI
from django.utils import timezone
from simple_history.utils import get_history_manager_for_model


def rows_read(queryset: QuerySet) -> Iterator[tuple]:
    """The rows of a ``values_list`` queryset, as ``values_list`` gives them, each column's
    database converters applied once per distinct value read.

    Converters are plain functions of the value (SQLite's turn each stored float into a
    quantized ``Decimal``, some 2 µs); a column with few distinct values among many rows (the
    points of a framework's indicators) then costs a dictionary look-up per row. Zero is
    converted each time: ``0.0 == -0.0`` as keys, yet they convert to different Decimals.
    """
    compiler = queryset.query.get_compiler(using=queryset.db)
    chunks = compiler.execute_sql(MULTI)
    if chunks is None:
        return
    fields = [selected[0] for selected in compiler.select[: compiler.col_count]]
    converters = [
        (position, convs, expression)
        for position, (convs, expression) in compiler.get_converters(fields).items()
    ]
    connection = compiler.connection
    seen: list[dict[object, object]] = [{} for _ in converters]
    for chunk in chunks:
        for raw in chunk:
            if not converters:
                yield tuple(raw)
                continue
            row = list(raw)
            for (position, convs, expression), known in zip(converters, seen, strict=True):
                value = row[position]
                if value is None:
                    converted = None
                    for converter in convs:
                        converted = converter(converted, expression, connection)
                elif value and value in known:
                    converted = known[value]
                else:
                    converted = value
                    for converter in convs:
                        converted = converter(converted, expression, connection)
                    if value:
                        known[value] = converted
                row[position] = converted
            yield tuple(row)


def rows_update(objs: Sequence[Model], fields: Sequence[str]) -> int:
    """Write ``fields`` of each object to its row, set-based (see ``rows_set``)."""
    if not objs:
        return 0
    model = type(objs[0])
    attnames = [model._meta.get_field(name).attname for name in fields]
    return rows_set(
        model, fields, [(obj.pk, *(getattr(obj, name) for name in attnames)) for obj in objs]
    )


# Rows per statement of ``rows_set``: well under the limits on parameters of both databases.
ROWS_PER_STATEMENT = 1000


def rows_set(model: type[Model], fields: Sequence[str], rows: Sequence[Sequence[object]]) -> int:
    """Write ``fields`` of many rows, each given as ``(pk, value, value, ...)``.

    One ``UPDATE … FROM (VALUES …)`` per thousand rows: the database joins the new values to
    its rows and writes them in one pass. Django's ``bulk_update`` compiles a ``CASE WHEN``
    per row and field (seconds for 10,000 rows), and one UPDATE per row costs a round trip
    each (1.5 s for 10,000 on PostgreSQL). SQLite before 3.33 has no ``UPDATE … FROM``: there,
    one prepared UPDATE runs for each row. Values are prepared by the model's fields, as a
    save prepares them.
    """
    if not rows:
        return 0
    opts = model._meta
    columns = [opts.get_field(name) for name in fields]
    connection = connections[router.db_for_write(model)]
    quote = connection.ops.quote_name
    prepared = [
        [opts.pk.get_db_prep_value(row[0], connection)]
        + [
            field.get_db_prep_save(value, connection)
            for field, value in zip(columns, row[1:], strict=True)
        ]
        for row in rows
    ]
    table, pk = quote(opts.db_table), quote(opts.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite" and connection.Database.sqlite_version_info < (3, 33):
            assignments = ", ".join(f"{quote(field.column)} = %s" for field in columns)
            cursor.executemany(
                f"UPDATE {table} SET {assignments} WHERE {pk} = %s",
                [values[1:] + values[:1] for values in prepared],
            )
            return len(prepared)
        if connection.vendor == "postgresql":
            # One statement whatever the number of rows: each column is one array parameter,
            # unnested into rows (parameters by the thousand cost more to bind than to run).
            # Typed: a column that holds only NULLs is otherwise text.
            types = [opts.pk.rel_db_type(connection)] + [f.db_type(connection) for f in columns]
            names = ["id", *(f"v{n}" for n in range(len(columns)))]
            assignments = ", ".join(
                f"{quote(field.column)} = v.{name}"
                for field, name in zip(columns, names[1:], strict=True)
            )
            arrays = ", ".join(f"%s::{kind}[]" for kind in types)
            cursor.execute(
                f"UPDATE {table} SET {assignments} "
                f"FROM unnest({arrays}) AS v ({', '.join(names)}) "
                f"WHERE {table}.{pk} = v.id",
                [list(column) for column in zip(*prepared, strict=True)],
            )
            return len(prepared)
        else:
            # SQLite names the columns of VALUES column1, column2, ...
            names = [f"column{n + 1}" for n in range(len(columns) + 1)]
            placeholder = "(" + ", ".join(["%s"] * len(names)) + ")"
            source = "v"
        assignments = ", ".join(
            f"{quote(field.column)} = v.{name}"
            for field, name in zip(columns, names[1:], strict=True)
        )
        for start in range(0, len(prepared), ROWS_PER_STATEMENT):
            chunk = prepared[start : start + ROWS_PER_STATEMENT]
            cursor.execute(
                f"UPDATE {table} SET {assignments} "
                f"FROM (VALUES {', '.join([placeholder] * len(chunk))}) AS {source} "
                f"WHERE {table}.{pk} = v.{names[0]}",
                [value for values in chunk for value in values],
            )
    return len(prepared)


# What simple-history adds to a historical model besides the copies of the tracked fields.
_HISTORY_COLUMNS = frozenset(
    {"history_id", "history_date", "history_change_reason", "history_type", "history_user_id"}
)


def history_copy(
    objs: Sequence[Model],
    model: type[Model],
    *,
    update: bool,
    default_user: AbstractBaseUser | None = None,
    default_change_reason: str | None = "",
    default_date: datetime.datetime | None = None,
    batch_size: int = 500,
) -> None:
    """simple-history's records of ``objs``, copied by the database from their saved rows.

    ``bulk_history_create`` builds a historical instance per object and Django compiles each
    of its values into the INSERT: more time than writing the rows themselves (0.8 s for
    10,000 zones). Here the database copies the rows just written, ``INSERT … SELECT`` by
    batches of ids, into the same columns with the same user, reason, date and type ("+"
    for new rows, "~" for updates); tests/test_bulk.py compares the records with those of
    ``bulk_history_create``. It falls back to ``bulk_history_create`` whenever the records
    could differ: a historical model with columns of its own, objects carrying their own
    history user, reason or date, or objects without a primary key.
    """
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    manager = get_history_manager_for_model(model)
    history = manager.model
    tracked = list(history.tracked_fields)
    columns = {field.attname for field in history._meta.concrete_fields}
    own_values = ("_history_user", "_change_reason", "_history_date")
    if columns != {field.attname for field in tracked} | _HISTORY_COLUMNS or any(
        obj.pk is None or any(hasattr(obj, name) for name in own_values) for obj in objs
    ):
        manager.bulk_history_create(
            objs,
            batch_size=batch_size,
            update=update,
            default_user=default_user,
            default_change_reason=default_change_reason,
            default_date=default_date,
        )
        return
    history_copy_rows(
        [obj.pk for obj in objs],
        model,
        update=update,
        default_user=default_user or history.get_default_history_user(objs[0]),
        default_change_reason=default_change_reason,
        default_date=default_date,
        batch_size=batch_size,
    )


def history_copy_rows(
    pks: Sequence[object],
    model: type[Model],
    *,
    update: bool,
    default_user: AbstractBaseUser | None = None,
    default_change_reason: str | None = "",
    default_date: datetime.datetime | None = None,
    batch_size: int = 500,
) -> None:
    """``history_copy`` for writers that hold the ids of the rows written, not instances
    (``rankings_compute`` writes tuples): no instance is built, unless the historical model
    has columns of its own, when the rows are read back for ``history_copy``."""
    if not pks or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history = get_history_manager_for_model(model).model
    tracked = list(history.tracked_fields)
    columns = {field.attname for field in history._meta.concrete_fields}
    if columns != {field.attname for field in tracked} | _HISTORY_COLUMNS:
        history_copy(
            list(model._default_manager.filter(pk__in=pks)),
            model,
            update=update,
            default_user=default_user,
            default_change_reason=default_change_reason,
            default_date=default_date,
            batch_size=batch_size,
        )
        return
    user = default_user or history.get_default_history_user(model(pk=pks[0]))
    connection = connections[router.db_for_write(history)]
    quote = connection.ops.quote_name
    opts, history_opts = model._meta, history._meta
    targets = [quote(field.column) for field in tracked] + [
        quote(history_opts.get_field(name).column)
        for name in ("history_date", "history_change_reason", "history_type", "history_user")
    ]
    sources = [quote(opts.get_field(field.name).column) for field in tracked]
    values = [
        history_opts.get_field("history_date").get_db_prep_save(
            default_date or timezone.now(), connection
        ),
        default_change_reason,
        "~" if update else "+",
        getattr(user, "pk", user),
    ]
    pk = quote(opts.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # One statement, the ids as one array parameter.
            cursor.execute(
                f"INSERT INTO {quote(history_opts.db_table)} ({', '.join(targets)}) "
                f"SELECT {', '.join(sources)}, %s, %s, %s, %s FROM {quote(opts.db_table)} "
                f"WHERE {pk} = ANY(%s::{opts.pk.rel_db_type(connection)}[]) ORDER BY {pk}",
                [*values, [opts.pk.get_db_prep_value(value, connection) for value in pks]],
            )
            return
        for start in range(0, len(pks), batch_size):
            ids = [
                opts.pk.get_db_prep_value(value, connection)
                for value in pks[start : start + batch_size]
            ]
            cursor.execute(
                f"INSERT INTO {quote(history_opts.db_table)} ({', '.join(targets)}) "
                f"SELECT {', '.join(sources)}, %s, %s, %s, %s FROM {quote(opts.db_table)} "
                f"WHERE {pk} IN ({', '.join(['%s'] * len(ids))}) ORDER BY {pk}",
                [*values, *ids],
            )
