"""The ``newsmon`` command: a thin layer over the library functions.

Settings are built here, once, and handed down through ``click`` 's context
object; no module reads the environment at import. Every command's help has
an example. Command groups live in small modules beside this one (ingest,
extract, research), each importing only ``app`` from this package.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click

from config.errors import NewsmonError
from config.settings import load_settings
from pipeline.cli import extract, ingest, research
from pipeline.cli.app import App
from pipeline.logs import configure_logging


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


for _module in (ingest, extract, research):
    for _command in _module.COMMANDS:
        cli.add_command(_command)
