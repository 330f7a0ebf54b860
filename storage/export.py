"""Export the researcher views to CSV, JSON Lines or Parquet, streaming.

Rows travel in chunks from a server-side cursor (PostgreSQL; SQLite steps its
cursor lazily) to the file, so a view of any size needs memory for one chunk
only; a Parquet file gets one row group per chunk. A file is written under a
temporary name and renamed when complete, so a crash never leaves a
half-written export that looks whole.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import sqlalchemy as sa
from sqlalchemy.exc import SQLAlchemyError

from storage.errors import StorageError
from storage.views import VIEWS, ColumnType, View
from storage.views import view as get_view

Format = Literal["csv", "jsonl", "parquet"]
FORMATS: tuple[Format, ...] = ("csv", "jsonl", "parquet")
CHUNK_ROWS = 10_000


@dataclass(frozen=True, slots=True)
class ExportResult:
    view: str
    path: Path
    rows: int


def _chunks(conn: sa.Connection, view: View, since: date | None,
            chunk_rows: int) -> Iterator[Sequence[sa.Row[Any]]]:
    where = f" WHERE {view.since_column} >= :since" if since else ""
    # View and column names come from storage.views, never from the user.
    sql = sa.text(f"SELECT {', '.join(view.column_names)} FROM {view.name}{where}"
                  f" ORDER BY {', '.join(view.column_names[:view.order_columns])}")
    if since and view.since_column == "month":  # YYYY-MM text: compare like with like
        sql = sql.bindparams(sa.bindparam("since", since.strftime("%Y-%m"), type_=sa.String()))
    elif since:
        sql = sql.bindparams(sa.bindparam("since", since, type_=sa.Date()))
    result = conn.execution_options(stream_results=True, yield_per=chunk_rows).execute(sql)
    yield from result.partitions(chunk_rows)


def _plain(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date | datetime) else value


def _write_csv(path: Path, view: View, chunks: Iterator[Sequence[sa.Row[Any]]]) -> int:
    count = 0
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(view.column_names)
        for chunk in chunks:
            writer.writerows([_plain(v) for v in row] for row in chunk)
            count += len(chunk)
    return count


def _write_jsonl(path: Path, view: View, chunks: Iterator[Sequence[sa.Row[Any]]]) -> int:
    count, names = 0, view.column_names
    with path.open("w", encoding="utf-8") as fh:
        for chunk in chunks:
            fh.writelines(
                json.dumps(dict(zip(names, map(_plain, row))), ensure_ascii=False) + "\n"
                for row in chunk
            )
            count += len(chunk)
    return count


def _arrow_value(type_: ColumnType, value: Any) -> Any:
    # SQLite hands dates and times back as ISO text; PostgreSQL as objects.
    if value is None or not isinstance(value, str):
        return value
    if type_ == "timestamp":
        return datetime.fromisoformat(value)
    if type_ == "date":
        return date.fromisoformat(value[:10])
    return value


def _write_parquet(path: Path, view: View, chunks: Iterator[Sequence[sa.Row[Any]]]) -> int:
    import pyarrow as pa
    import pyarrow.parquet as pq

    arrow = {"int": pa.int64(), "float": pa.float64(), "text": pa.string(),
             "timestamp": pa.timestamp("us"), "date": pa.date32()}
    schema = pa.schema([(c.name, arrow[c.type]) for c in view.columns])
    count = 0
    with pq.ParquetWriter(path, schema, compression="zstd") as writer:
        for chunk in chunks:
            columns = [
                pa.array([_arrow_value(c.type, row[i]) for row in chunk], type=arrow[c.type])
                for i, c in enumerate(view.columns)
            ]
            writer.write_table(pa.Table.from_arrays(columns, schema=schema),
                               row_group_size=len(chunk))
            count += len(chunk)
        if count == 0:  # an empty file still carries the schema
            writer.write_table(schema.empty_table())
    return count


_WRITERS = {"csv": _write_csv, "jsonl": _write_jsonl, "parquet": _write_parquet}


def export_view(engine: sa.Engine, name: str, *, fmt: Format, out_dir: Path,
                since: date | None = None, chunk_rows: int = CHUNK_ROWS) -> ExportResult:
    """Write view ``name`` (rows on or after ``since``) to ``out_dir/<name>.<fmt>``."""
    view = get_view(name)
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{name}.{fmt}"
    partial = path.with_name(path.name + ".partial")
    try:
        with engine.connect() as conn:
            if conn.dialect.name == "postgresql":
                conn = conn.execution_options(postgresql_readonly=True)
            rows = _WRITERS[fmt](partial, view, _chunks(conn, view, since, chunk_rows))
    except SQLAlchemyError as exc:
        partial.unlink(missing_ok=True)
        raise StorageError(f"exporting {name} failed: {exc}") from exc
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return ExportResult(name, path, rows)


def export_views(engine: sa.Engine, names: Sequence[str] = (), *, fmt: Format, out_dir: Path,
                 since: date | None = None, chunk_rows: int = CHUNK_ROWS) -> list[ExportResult]:
    """Export each of ``names`` (all views when empty)."""
    return [export_view(engine, n, fmt=fmt, out_dir=out_dir, since=since, chunk_rows=chunk_rows)
            for n in (names or list(VIEWS))]
