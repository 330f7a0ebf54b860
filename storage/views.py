"""The researcher views (``*_v``): names, column meanings and column types.

The SQL lives in migration 0002 (frozen); this module is the description of
that public surface, used by the export (column types for Parquet), the
schema document and ``tests/test_views.py``, which fails if a view's real
columns differ from what is written here.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from config.errors import ConfigError
from config.files import read_toml
from config.settings import CONFIG_DIR

ColumnType = Literal["int", "float", "text", "timestamp", "date"]


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    doc: str


@dataclass(frozen=True, slots=True)
class View:
    name: str
    doc: str
    columns: tuple[Column, ...]
    # The column `newsmon export --since` filters on.
    since_column: str = "day"
    # Exports are ordered by this many leading columns (a stable order).
    order_columns: int = 1

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


def _c(name: str, type_: ColumnType, doc: str) -> Column:
    return Column(name, type_, doc)


_EVIDENCE = (
    _c("sentence", "text", "the sentence the row was read from"),
    _c("char_start", "int", "offset of the matched text in articles.text"),
    _c("char_end", "int", "end offset (exclusive) of the matched text"),
    _c("confidence", "float", "extractor confidence, 0..1"),
    _c("extractor_version", "text", "version of the extractor that produced the row"),
)
_ARTICLE = (
    _c("url", "text", "canonical URL of the article"),
    _c("title", "text", "article title"),
    _c("published", "timestamp", "publication time (UTC), when known"),
    _c("day", "date", "publication day (UTC), or discovery day when unknown"),
    _c("feed", "text", "name of the feed that first brought the article"),
)

VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        View("articles_v", "One row per stored article, duplicates included.", (
            _c("id", "int", "article id (articles.id)"),
            _c("url", "text", "canonical URL"),
            _c("title", "text", "article title"),
            _c("published", "timestamp", "publication time (UTC), when known"),
            _c("discovered_at", "timestamp", "when newsmon first saw the article (UTC)"),
            _c("day", "date", "publication day, or discovery day when unknown"),
            _c("feed", "text", "feed that first brought the article"),
            _c("language", "text", "detected language code"),
            _c("status", "text", "pending, fetched, extracted, skipped or failed"),
            _c("skip_reason", "text", "why the article was skipped or failed"),
            _c("duplicate_of", "int", "id of the article this one duplicates, else empty"),
            _c("sources", "int", "number of feeds that carried this URL"),
            _c("extractor_version", "text", "extractor version of its rows"),
        )),
        View("actor_mentions_v", "Every mention of an actor, with its sentence.", (
            _c("mention_id", "int", "mentions.id"),
            _c("article_id", "int", "article the mention is in"),
            _c("actor_id", "int", "actors.id"),
            _c("actor", "text", "canonical actor name"),
            _c("actor_type", "text", "PERSON, ORG, GPE or NORP"),
            _c("mention", "text", "the words used in the text"),
            *_EVIDENCE, *_ARTICLE,
        )),
        View("amounts_v", "Sums of money with donor and recipient.", (
            _c("amount_id", "int", "amounts.id"),
            _c("article_id", "int", "article the amount is in"),
            _c("value", "float", "value in units of the currency"),
            _c("currency", "text", "ISO 4217 code"),
            _c("period_years", "float", "years the sum is spread over, when stated"),
            _c("donor_id", "int", "actors.id of the donor"),
            _c("donor", "text", "donor's canonical name, when stated"),
            _c("recipient_id", "int", "actors.id of the recipient"),
            _c("recipient", "text", "recipient's canonical name, when stated"),
            _c("text", "text", "the amount as written"),
            *_EVIDENCE, *_ARTICLE,
            _c("month", "text", "publication month as YYYY-MM"),
        )),
        View("stances_v", "Who supports or opposes whom, with the cue and sentence.", (
            _c("stance_id", "int", "stances.id"),
            _c("article_id", "int", "article the stance is in"),
            _c("holder_id", "int", "actors.id of the holder"),
            _c("holder", "text", "canonical name of who takes the stance"),
            _c("polarity", "text", "support or oppose"),
            _c("target_id", "int", "actors.id of the target, when an actor"),
            _c("target", "text", "canonical name of the target actor"),
            _c("target_text", "text", "topic phrase when no actor owns the target"),
            _c("target_label", "text", "target, or target_text when there is no actor"),
            _c("cue", "text", "the cue word (pushback, condemn, back, ...)"),
            *_EVIDENCE, *_ARTICLE,
        )),
        View("quotes_v", "What named actors said, direct or reported, with the sentence.", (
            _c("quote_id", "int", "quotes.id"),
            _c("article_id", "int", "article the quote is in"),
            _c("speaker_id", "int", "actors.id of the speaker"),
            _c("speaker", "text", "canonical name of who speaks"),
            _c("kind", "text", "direct (quoted words) or reported (X said that ...)"),
            _c("cue", "text", "the reporting verb or phrase (said, told, according to)"),
            _c("quote", "text", "the quoted words, or the reported clause"),
            *_EVIDENCE, *_ARTICLE,
        )),
        View("events_v", "Coded events (CAMEO and PLOVER) between actors.", (
            _c("event_id", "int", "events.id"),
            _c("article_id", "int", "article the event is in"),
            _c("type", "text", "event type (propose, pledge, criticise, ...)"),
            _c("cameo", "text", "CAMEO code"),
            _c("plover", "text", "PLOVER category"),
            _c("source_id", "int", "actors.id of the source"),
            _c("source", "text", "source actor's canonical name"),
            _c("target_id", "int", "actors.id of the target"),
            _c("target", "text", "target actor's canonical name"),
            _c("amount_value", "float", "value of the linked amount, if any"),
            _c("amount_currency", "text", "currency of the linked amount"),
            _c("event_date", "date", "date the event happened, when stated"),
            *_EVIDENCE, *_ARTICLE,
        )),
        View("amounts_monthly_v", "Money per recipient, donor, month and currency, summed. "
             "A summary the daemon rebuilds every 10 minutes (and `newsmon fetch --once` "
             "and `newsmon reprocess` at their end), so it may lag amounts_v by that much; "
             "fast however many amounts a recipient has.", (
            _c("recipient_id", "int", "actors.id of the recipient"),
            _c("recipient", "text", "recipient's canonical name, when stated"),
            _c("donor_id", "int", "actors.id of the donor"),
            _c("donor", "text", "donor's canonical name, when stated"),
            _c("month", "text", "publication month as YYYY-MM"),
            _c("currency", "text", "ISO 4217 code"),
            _c("total", "float", "sum of the amounts' values"),
            _c("amounts", "int", "number of amounts summed"),
        ), since_column="month", order_columns=6),
        View("actor_daily_v", "Mentions per actor per day.", (
            _c("actor_id", "int", "actors.id"),
            _c("actor", "text", "canonical actor name"),
            _c("actor_type", "text", "PERSON, ORG, GPE or NORP"),
            _c("day", "date", "publication day, or discovery day when unknown"),
            _c("mentions", "int", "mentions of the actor that day"),
            _c("articles", "int", "distinct articles mentioning the actor that day"),
        ), order_columns=4),
    )
}


def view(name: str) -> View:
    """The view called ``name``; KeyError lists the known ones."""
    try:
        return VIEWS[name]
    except KeyError:
        raise KeyError(f"no view {name!r}; known: {', '.join(VIEWS)}") from None


# --- the cookbook and the Datasette metadata built from it ----------------

COOKBOOK = CONFIG_DIR / "cookbook.toml"
DATASETTE_METADATA = CONFIG_DIR / "datasette.yaml"


@dataclass(frozen=True, slots=True)
class Recipe:
    """One research question from config/cookbook.toml."""

    name: str
    title: str
    description: str
    sql: str
    params: dict[str, Any]
    expect: dict[str, Any]
    sql_postgresql: str | None = None

    def sql_for(self, dialect: str) -> str:
        return self.sql_postgresql if dialect == "postgresql" and self.sql_postgresql else self.sql


def load_cookbook(path: Path = COOKBOOK) -> list[Recipe]:
    """The recipes of ``path``; a malformed entry raises ConfigError naming it."""
    data = read_toml(path, "cookbook")
    recipes = []
    for i, entry in enumerate(data.get("recipe", [])):
        try:
            recipes.append(Recipe(
                name=entry["name"], title=entry["title"], description=entry["description"],
                sql=entry["sql"].strip(), params=dict(entry.get("params", {})),
                expect=dict(entry.get("expect", {})),
                sql_postgresql=(entry.get("sql_postgresql") or "").strip() or None,
            ))
        except (KeyError, AttributeError) as exc:
            raise ConfigError(f"cookbook {path}: recipe #{i + 1} lacks {exc}") from exc
    names = [r.name for r in recipes]
    if len(set(names)) != len(names):
        raise ConfigError(f"cookbook {path}: recipe names must be unique")
    return recipes


def datasette_metadata(recipes: list[Recipe], *, database: str = "newsmon") -> dict[str, Any]:
    """Datasette metadata: the cookbook as canned queries, all read-only."""
    return {
        "title": "newsmon",
        "description": "News feeds read into actors, amounts and stances. Query the *_v "
                       "views; every row links to its article and sentence.",
        "databases": {database: {
            "description": "Read-only. " + ", ".join(VIEWS) + " are the stable views.",
            "queries": {
                r.name: {"title": r.title, "description": r.description, "sql": r.sql,
                         "params": list(_param_names(r.sql))}
                for r in recipes
            },
        }},
    }


def _param_names(sql: str) -> dict[str, None]:
    # Order-preserving set of :name parameters (string literals skipped).
    from storage.readonly import sql_parameters

    return dict.fromkeys(sql_parameters(sql))


def render_datasette_metadata(recipes: list[Recipe], *, database: str = "newsmon") -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):
        pass

    def _str(dumper: yaml.SafeDumper, value: str) -> yaml.Node:
        style = "|" if "\n" in value else None
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)

    _Dumper.add_representer(str, _str)
    header = "# Generated from config/cookbook.toml by storage.views.write_datasette_metadata.\n"
    body = yaml.dump(datasette_metadata(recipes, database=database), Dumper=_Dumper,
                     sort_keys=False, allow_unicode=True, width=100)
    return header + body


def write_datasette_metadata(path: Path = DATASETTE_METADATA) -> Path:
    path.write_text(render_datasette_metadata(load_cookbook()), encoding="utf-8")
    return path
