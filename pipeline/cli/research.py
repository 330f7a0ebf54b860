"""Researcher commands: ``sql``, ``export``, ``browse`` and ``digest``.

Thin wrappers: the work is in ``storage.readonly``, ``storage.export``,
``storage.browse`` and ``pipeline.digest``.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click

from pipeline.cli.app import App, pass_app


def _params(values: tuple[str, ...]) -> dict[str, str]:
    params = {}
    for item in values:
        name, sep, value = item.partition("=")
        if not sep or not name.isidentifier():
            raise click.BadParameter(f"{item!r} is not NAME=VALUE", param_hint="--param")
        params[name] = value
    return params


def _view_names() -> list[str]:
    from storage.views import VIEWS

    return list(VIEWS)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return value


@click.command("sql")
@click.argument("query")
@click.option("--param", "-p", "param", multiple=True, metavar="NAME=VALUE",
              help="Bind :NAME in the query to VALUE (repeatable). Never pasted into the SQL.")
@click.option("--format", "fmt", type=click.Choice(["table", "csv", "json"]), default="table",
              show_default=True, help="Output format.")
@pass_app
def sql_command(app: App, query: str, param: tuple[str, ...], fmt: str) -> None:
    """Run one read-only SELECT against the database and print the rows.

    Writes, DDL, ATTACH, VACUUM, PRAGMA and a second statement are refused
    (exit status 1). The query stops after sql_timeout seconds and returns at
    most sql_max_rows rows.

    \b
    Example:
      newsmon sql "SELECT holder, cue, sentence FROM stances_v
                   WHERE target = :who AND polarity = 'oppose'" -p who="Jens Stoltenberg"
      newsmon sql "SELECT * FROM amounts_v" --format csv > amounts.csv
    """
    from storage.readonly import run_query

    settings = app.settings
    result = run_query(settings.database_url, query, params=_params(param),
                       timeout=settings.sql_timeout, max_rows=settings.sql_max_rows)
    rows = [[_plain(v) for v in row] for row in result.rows]
    if fmt == "csv":
        writer = csv.writer(sys.stdout, lineterminator="\n")
        writer.writerow(result.columns)
        writer.writerows(rows)
    elif fmt == "json":
        click.echo(json.dumps([dict(zip(result.columns, r)) for r in rows], ensure_ascii=False,
                              default=str, indent=1))
    else:
        _print_table(result.columns, rows)
    if result.truncated:
        click.echo(f"newsmon: output truncated at {result.max_rows} rows (sql_max_rows)",
                   err=True)


def _print_table(columns: tuple[str, ...], rows: list[list[Any]]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(*columns, show_lines=False)
    for row in rows:
        # markup=False: cell text is data from feeds, not rich markup.
        table.add_row(*("" if v is None else str(v) for v in row))
    Console(markup=False, highlight=False, soft_wrap=True).print(table)


@click.command("export")
@click.option("--since", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Only rows whose day is on or after DATE (YYYY-MM-DD).")
@click.option("--format", "fmt", type=click.Choice(["csv", "jsonl", "parquet"]), required=True,
              help="File format.")
@click.option("--view", "views", multiple=True, metavar="NAME",
              type=click.Choice(_view_names()),
              help="View to export (repeatable); all *_v views when omitted.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              default=Path("."), show_default=True, help="Directory for the files.")
@pass_app
def export_command(app: App, since: datetime | None, fmt: str, views: tuple[str, ...],
                   out_dir: Path) -> None:
    """Export the researcher views to files, one per view, streaming.

    Rows are read and written in chunks, so any size fits in memory;
    Parquet files get one row group per chunk.

    \b
    Example:
      newsmon export --since 2024-08-01 --format parquet --out exports/
      newsmon export --format csv --view stances_v --view amounts_v
    """
    from storage.export import export_views

    results = export_views(app.db.engine, views, fmt=fmt, out_dir=out_dir,  # type: ignore[arg-type]
                           since=since.date() if since else None)
    for result in results:
        click.echo(f"{result.view}: {result.rows} rows -> {result.path}")


@click.command("digest")
@click.option("--date", "day", type=click.DateTime(["%Y-%m-%d"]), default=None,
              help="Day of the digest (default: today in digest_tz).")
@click.option("--dry-run", is_flag=True, help="Build the digest but send nothing.")
@click.option("--out", "out", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="With --dry-run: write the preview to FILE (.eml or .html).")
@pass_app
def digest_command(app: App, day: datetime | None, dry_run: bool, out: Path | None) -> None:
    """Send the daily digest now (once per day and recipient), or preview it.

    A digest already sent to a recipient for that day is not sent again.

    \b
    Example:
      newsmon digest --date 2024-08-08 --dry-run --out digest.html
      newsmon digest
    """
    from pipeline.digest import (
        build_digest,
        compose,
        message_id,
        preview_html,
        render_text,
        send_digest,
    )

    settings = app.settings
    the_day = day.date() if day else datetime.now(settings.zone).date()
    if out is not None and not dry_run:
        raise click.UsageError("--out needs --dry-run")
    if not dry_run:
        report = send_digest(app.db, settings, day=the_day)
        click.echo(f"digest {the_day}: sent to {len(report.sent)}, "
                   f"already sent to {len(report.already_sent)}")
        return
    with app.db.session() as session:
        message = build_digest(session, day=the_day, settings=settings)
    if out is None:
        click.echo(render_text(message))
    elif out.suffix == ".eml":
        recipient = (settings.digest_to or [settings.digest_from])[0]
        mail = compose(message, sender=settings.digest_from, recipient=recipient,
                       message_id=message_id(the_day, recipient))
        out.write_bytes(bytes(mail))
    elif out.suffix in (".html", ".htm"):
        out.write_text(preview_html(message), encoding="utf-8")
    else:
        raise click.BadParameter("the preview file must end in .eml or .html", param_hint="--out")
    if out is not None:
        click.echo(f"digest {the_day}: preview written to {out}")


def datasette_argv(path: Path, *, metadata: Path, host: str, port: int,
                   timeout_s: float, max_rows: int) -> list[str]:
    """The ``datasette serve`` command line for a read-only browse of ``path``."""
    return [
        sys.executable, "-m", "datasette", "serve", str(path),
        "--metadata", str(metadata), "--host", host, "--port", str(port),
        "--setting", "sql_time_limit_ms", str(max(1, int(timeout_s * 1000))),
        "--setting", "max_returned_rows", str(max_rows),
        "--setting", "allow_download", "off",
    ]


@click.command("browse")
@click.option("--port", type=click.IntRange(0, 65535), default=8001, show_default=True,
              help="TCP port to listen on.")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on; keep 127.0.0.1 unless a proxy guards it.")
@pass_app
def browse_command(app: App, port: int, host: str) -> None:
    """Browse the database read-only in Datasette, with the cookbook as canned queries.

    Datasette 0.65 reads SQLite files only; for PostgreSQL use `newsmon sql`.
    The file is opened mode=ro (it stays live while the daemon writes);
    only SELECTs run, within sql_timeout and sql_max_rows.

    \b
    Example:
      newsmon browse --port 8001    # then open http://127.0.0.1:8001/newsmon
    """
    import os
    import tempfile

    from sqlalchemy.engine import make_url

    from storage.views import load_cookbook, render_datasette_metadata

    settings = app.settings
    url = make_url(settings.database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        raise click.ClickException(
            "newsmon browse serves SQLite database files only (Datasette 0.65); "
            "for PostgreSQL use `newsmon sql` or a PostgreSQL client with a read-only role")
    app.db.dispose()  # opening it brought the schema (and the views) up to date
    path = Path(url.database).resolve()
    metadata = Path(tempfile.mkdtemp(prefix="newsmon-browse-")) / "metadata.yaml"
    metadata.write_text(render_datasette_metadata(load_cookbook(), database=path.stem),
                        encoding="utf-8")
    argv = datasette_argv(path, metadata=metadata, host=host, port=port,
                          timeout_s=settings.sql_timeout, max_rows=settings.sql_max_rows)
    sys.stdout.flush()
    os.execv(argv[0], argv)  # become datasette: signals and exit status are its own


COMMANDS: list[click.Command] = [sql_command, export_command, digest_command, browse_command]
