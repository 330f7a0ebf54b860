"""``newsmon extract``: the extractors on files, URLs or stdin, without a database."""

from __future__ import annotations

import json

import click

from pipeline.cli.app import App, pass_app


@click.command()
@click.argument("sources", nargs=-1, required=True)
@click.option("--json", "as_json", is_flag=True,
              help="One JSON object per input (JSON Lines), the shape of eval/SPEC.md.")
@pass_app
def extract(app: App, sources: tuple[str, ...], as_json: bool) -> None:
    """Tag actors, amounts, stances and events in FILE|URL|- inputs.

    .txt files and '-' (stdin) are read as text; .html files and URLs through
    the reader. Nothing is stored.

    \b
    Example:
      newsmon extract --json ../shared/eval/dev/articles/*.txt > pred.jsonl
    """
    from pipeline.analysis.extract import Extractor
    from pipeline.analysis.inputs import load_text

    items = [load_text(source, app.settings) for source in sources]
    extractor = Extractor.shared(app.settings)
    for _ident, analysis in extractor.run(items):
        spec = analysis.to_spec()
        if as_json:
            click.echo(json.dumps(spec, ensure_ascii=False))
            continue
        click.echo(f"== {spec['id']}")
        for actor in spec["actors"]:
            click.echo(f"  actor   {actor['name']} ({actor['type']})")
        for amount in spec["amounts"]:
            who = f"{amount.get('donor', '?')} -> {amount.get('recipient', '?')}"
            click.echo(f"  amount  {amount['text']} = {amount['value']} {amount['currency']}"
                       f" [{who}]")
        for stance in spec["stances"]:
            click.echo(f"  stance  {stance['holder']} {stance['polarity']}s "
                       f"{stance['target'] or '?'} ({stance['cue']})")


COMMANDS = [extract]
