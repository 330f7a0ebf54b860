"""`newsmon export`: every view, every format, streamed in chunks, on both backends."""

from __future__ import annotations

import csv
import json
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq
import sqlalchemy as sa
from click.testing import CliRunner

from pipeline.cli import cli
from storage.db import Database
from storage.export import FORMATS, export_view, export_views
from storage.views import VIEWS
from tests.support.rows import fill_realistic

SINCE = date(2024, 8, 1)


def _count(db: Database, view: str, since: date | None) -> int:
    column = VIEWS[view].since_column
    where = f" WHERE {column} >= :s" if since else ""
    sql = sa.text(f"SELECT COUNT(*) FROM {view}{where}")
    if since and column == "month":
        sql = sql.bindparams(sa.bindparam("s", since.strftime("%Y-%m"), type_=sa.String()))
    elif since:
        sql = sql.bindparams(sa.bindparam("s", since, type_=sa.Date()))
    with db.engine.connect() as conn:
        return conn.execute(sql).scalar_one()


def _read(path: Path) -> list[dict[str, object]]:
    if path.suffix == ".csv":
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.DictReader(fh))
    if path.suffix == ".jsonl":
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return pq.read_table(path).to_pylist()


def test_every_view_exports_with_its_columns(db: Database, tmp_path: Path) -> None:
    fill_realistic(db)
    for fmt in FORMATS:
        _check_export(db, tmp_path / fmt, fmt)


def _check_export(db: Database, out_dir: Path, fmt: str) -> None:
    results = export_views(db.engine, fmt=fmt, out_dir=out_dir, since=SINCE, chunk_rows=3)  # type: ignore[arg-type]
    assert [r.view for r in results] == list(VIEWS)
    for result in results:
        rows = _read(result.path)
        assert result.rows == len(rows) == _count(db, result.view, SINCE) > 0, result.view
        assert list(rows[0]) == VIEWS[result.view].column_names
        column = VIEWS[result.view].since_column
        floor = "2024-08" if column == "month" else "2024-08-01"
        assert all(str(r[column]) >= floor for r in rows)
    assert not list(out_dir.glob("*.partial"))


def test_parquet_is_written_in_row_groups_with_typed_columns(db: Database, tmp_path: Path) -> None:
    fill_realistic(db)
    result = export_view(db.engine, "stances_v", fmt="parquet", out_dir=tmp_path, chunk_rows=2)
    meta = pq.ParquetFile(result.path).metadata
    assert meta.num_rows == result.rows == _count(db, "stances_v", None)
    assert meta.num_row_groups == -(-result.rows // 2)  # one row group per chunk
    table = pq.read_table(result.path)
    assert str(table.schema.field("published").type) == "timestamp[us]"
    assert str(table.schema.field("day").type) == "date32[day]"
    row = next(r for r in table.to_pylist() if r["cue"] == "pushback")
    assert row["holder"] == "White House" and row["day"] == date(2024, 8, 7)


def test_empty_export_still_has_a_schema(db: Database, tmp_path: Path) -> None:
    result = export_view(db.engine, "amounts_v", fmt="parquet", out_dir=tmp_path)
    assert result.rows == 0
    assert pq.read_table(result.path).schema.names == VIEWS["amounts_v"].column_names


def test_cli_export(db: Database, tmp_path: Path) -> None:
    fill_realistic(db)
    url = db.engine.url.render_as_string(hide_password=False)
    out = CliRunner().invoke(cli, ["export", "--since", "2024-08-01", "--format", "jsonl",
                                   "--view", "amounts_v", "--view", "stances_v",
                                   "--out", str(tmp_path / "out")],
                             env={"NEWSMON_DATABASE_URL": url})
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["amounts_v.jsonl", "stances_v.jsonl"]
    assert "amounts_v" in out.output
    bad = CliRunner().invoke(cli, ["export", "--view", "feeds", "--format", "csv"],
                             env={"NEWSMON_DATABASE_URL": url})
    assert bad.exit_code != 0 and "feeds" in bad.output
