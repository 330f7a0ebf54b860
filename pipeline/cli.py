"""The ``newsmon`` command: a thin layer over the library functions.

Settings are built here, once, and handed down through ``click`` 's context
object; no module reads the environment at import. Every command's help has
an example. Command groups live in small modules (``cli_*.py``) registered
at the bottom, so each stays readable.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import click

from config.errors import NewsmonError
from config.settings import Settings, load_settings
from storage.db import Database, open_database


@dataclass
class App:
    """What every command gets: the settings and, on first use, the database."""

    settings: Settings
    _db: Database | None = field(default=None, repr=False)

    @property
    def db(self) -> Database:
        if self._db is None:
            self._db = open_database(self.settings.database_url)
        return self._db

    def close(self) -> None:
        if self._db is not None:
            self._db.dispose()


pass_app = click.make_pass_decorator(App)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="TOML settings file (overrides NEWSMON_CONFIG_FILE).",
)
@click.version_option(package_name="newsmon")
@click.pass_context
def cli(ctx: click.Context, config_file: Path | None) -> None:
    """newsmon: watch news feeds, tag actors, amounts and stances, query with SQL.

    \b
    Example:
      newsmon fetch --once && newsmon status
    """
    from pipeline.logs import configure_logging

    settings = load_settings(config_file)
    configure_logging(settings)
    app = App(settings)
    ctx.obj = app
    ctx.call_on_close(app.close)


def main() -> None:
    """Entry point: NewsmonError becomes a one-line message and exit status 1."""
    try:
        cli.main(standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except NewsmonError as exc:
        click.echo(f"newsmon: error: {exc}", err=True)
        sys.exit(1)


def _register() -> None:
    import importlib

    for module in ("pipeline.cli_ingest", "pipeline.cli_extract", "pipeline.cli_research"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue  # a command group not written yet
        for command in mod.COMMANDS:
            cli.add_command(command)


_register()
