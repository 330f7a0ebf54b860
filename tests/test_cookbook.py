"""Every cookbook recipe runs, read-only, on both backends and finds its example.

The recipes in config/cookbook.toml are documentation; running each one with
its example parameters against the realistic dataset keeps them from rotting.
"""

from __future__ import annotations

import math
from typing import Any

import pytest
import yaml

from storage.db import Database
from storage.readonly import check_query, run_query
from storage.views import DATASETTE_METADATA, datasette_metadata, load_cookbook
from tests.support.rows import fill_realistic

RECIPES = load_cookbook()


def _same(actual: Any, expected: Any) -> bool:
    if isinstance(expected, int | float) and not isinstance(expected, bool):
        return actual is not None and math.isclose(float(actual), float(expected))
    return str(actual) == str(expected)


def test_cookbook_has_the_research_questions() -> None:
    assert len(RECIPES) >= 10
    for recipe in RECIPES:
        assert recipe.title and recipe.description and recipe.sql
        check_query(recipe.sql)  # a query, one statement


def test_every_recipe_answers_its_example(db: Database) -> None:
    fill_realistic(db)
    url = db.engine.url.render_as_string(hide_password=False)
    failures = []
    for recipe in RECIPES:
        result = run_query(url, recipe.sql_for(db.engine.dialect.name), params=recipe.params,
                           timeout=10, max_rows=1000)
        rows = [dict(zip(result.columns, row)) for row in result.rows]
        wanted = recipe.expect
        if not rows or (wanted and not any(
                all(_same(r.get(k), v) for k, v in wanted.items()) for r in rows)):
            failures.append(f"{recipe.name}: expected a row with {wanted}, got {rows[:5]}")
    assert not failures, "\n".join(failures)


def test_datasette_metadata_is_built_from_the_cookbook() -> None:
    committed = yaml.safe_load(DATASETTE_METADATA.read_text(encoding="utf-8"))
    assert committed == datasette_metadata(RECIPES), (
        "config/datasette.yaml is stale: run "
        "python -c 'from storage.views import write_datasette_metadata as w; w()'"
    )
    queries = committed["databases"]["newsmon"]["queries"]
    assert set(queries) == {r.name for r in RECIPES}
    assert not any(q.get("write") for q in queries.values())


@pytest.mark.parametrize("recipe", RECIPES, ids=[r.name for r in RECIPES])
def test_recipe_parameters_have_examples(recipe: Any) -> None:
    from storage.readonly import sql_parameters

    assert set(sql_parameters(recipe.sql)) == set(recipe.params)
