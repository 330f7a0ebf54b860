"""The README documents every CLI command and every setting (a doc that rots fails here)."""

from __future__ import annotations

import re

import click

from config.settings import setting_names
from pipeline.cli import cli
from tests.support.paths import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def _commands(group: click.Group, prefix: str = "newsmon") -> list[str]:
    names = []
    for name, command in group.commands.items():
        full = f"{prefix} {name}"
        names.append(full)
        if isinstance(command, click.Group):
            names += _commands(command, full)
    return names


def test_every_command_is_in_the_readme():
    missing = [c for c in _commands(cli) if f"`{c}" not in README]
    assert not missing, f"README lacks: {missing}"


def test_every_command_has_an_example_in_its_help():
    def walk(group: click.Group):  # noqa: ANN202
        for command in group.commands.values():
            yield command
            if isinstance(command, click.Group):
                yield from walk(command)

    lacking = [c.name for c in walk(cli) if "Example" not in (c.help or "")]
    assert not lacking, f"commands without an example in --help: {lacking}"


def test_every_setting_is_in_the_readme():
    missing = [n for n in setting_names() if f"NEWSMON_{n.upper()}" not in README]
    assert not missing, f"README lacks settings: {missing}"


def test_readme_settings_exist():
    documented = set(re.findall(r"NEWSMON_([A-Z_]+)", README))
    known = {n.upper() for n in setting_names()} | {"CONFIG_FILE", "SHARED", "REQUIRE_SHARED",
                                                      "TEST_PG_URL"}
    assert documented <= known, f"README documents unknown settings: {documented - known}"


def test_readme_gives_exactly_two_setup_commands():
    block = README.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    commands = re.findall(r"^\s*(make \w+)\s*$", block, flags=re.M)
    assert commands == ["make run", "make test"]


def test_readme_documents_every_view_column_and_recipe():
    from storage.views import VIEWS, load_cookbook

    for name, view in VIEWS.items():
        section = README.split(f"#### `{name}`", 1)
        assert len(section) == 2, f"README lacks view {name}"
        body = section[1].split("\n#### ", 1)[0]
        missing = [c.name for c in view.columns if f"| `{c.name}` |" not in body]
        assert not missing, f"README {name} lacks columns {missing}"
    for recipe in load_cookbook():
        assert f"### {recipe.title}" in README, f"README lacks recipe {recipe.name}"
        assert recipe.sql.strip() in README, f"README SQL of {recipe.name} differs from config"
