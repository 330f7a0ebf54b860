"""extracted rows carry their article's day; views answer per-day questions from one index

Revision ID: 0003
Revises: 0002

"Amounts to Y by month" over a million rows spent its time visiting the
article of every amount for its date (225 ms for a recipient with 120k rows).
Each extracted row now carries the day it counts under (publication, else
discovery), indexed together with the columns those questions read, so they
are index-only scans. The views take day and month from the row and reach
articles and feeds through LEFT JOINs on primary keys, which SQLite drops when
a query reads none of their columns.

The views no longer filter ``articles.duplicate_of``: a duplicate article is
never analysed (it is stored ``skipped`` before extraction), so extracted rows
count each story once without that filter.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TABLES = ("mentions", "amounts", "stances", "events")
REBUILT_VIEWS = ("actor_daily_v", "stances_v", "amounts_v", "actor_mentions_v", "events_v")
OLD_INDEXES = (
    # Single-column ones are prefixes of the new composites and lure the planner
    # away from the covering index.
    ("ix_stances_target", "stances", ("target_id",)),
    ("ix_stances_holder", "stances", ("holder_id",)),
    ("ix_amounts_recipient", "amounts", ("recipient_id",)),
    ("ix_amounts_donor", "amounts", ("donor_id",)),
    ("ix_stances_target_article", "stances", ("target_id", "article_id")),
    ("ix_stances_holder_article", "stances", ("holder_id", "article_id")),
    ("ix_amounts_recipient_article", "amounts",
     ("recipient_id", "article_id", "currency", "value", "donor_id")),
    ("ix_amounts_donor_article", "amounts",
     ("donor_id", "article_id", "currency", "value", "recipient_id")),
)
NEW_INDEXES = (
    ("ix_stances_target_day", "stances", ("target_id", "day")),
    ("ix_stances_holder_day", "stances", ("holder_id", "day")),
    # Covering for sums through amounts_v: the view also reads article_id and the
    # other party's id, so they ride along and no amounts row is visited.
    ("ix_amounts_recipient_day", "amounts",
     ("recipient_id", "day", "currency", "value", "article_id", "donor_id")),
    ("ix_amounts_donor_day", "amounts",
     ("donor_id", "day", "currency", "value", "article_id", "recipient_id")),
    ("ix_mentions_actor_day", "mentions", ("actor_id", "day")),
)


def _month(dialect: str, column: str) -> str:
    if dialect == "postgresql":
        return f"to_char({column}, 'YYYY-MM')"
    return f"strftime('%Y-%m', {column})"


def _article_day(dialect: str) -> str:
    when = "COALESCE(a.published, a.discovered_at)"
    return f"CAST({when} AS DATE)" if dialect == "postgresql" else f"date({when})"


def _views(dialect: str) -> dict[str, str]:
    article = "a.url, a.title, a.published, x.day, f.name AS feed"
    joins = ("LEFT JOIN articles a ON a.id = x.article_id "
             "LEFT JOIN feeds f ON f.id = a.feed_id")
    evidence = ("x.sentence, x.start AS char_start, x.\"end\" AS char_end, "
                "x.confidence, x.extractor_version")
    return {
        "actor_mentions_v": f"""
SELECT x.id AS mention_id, x.article_id, ac.id AS actor_id, ac.name AS actor,
       ac.type AS actor_type, x.text AS mention, {evidence}, {article}
FROM mentions x JOIN actors ac ON ac.id = x.actor_id {joins}""",
        "amounts_v": f"""
SELECT x.id AS amount_id, x.article_id, x.value, x.currency, x.period_years,
       x.donor_id, dn.name AS donor, x.recipient_id, rc.name AS recipient,
       x.text, {evidence}, {article}, {_month(dialect, 'x.day')} AS month
FROM amounts x {joins}
LEFT JOIN actors dn ON dn.id = x.donor_id LEFT JOIN actors rc ON rc.id = x.recipient_id""",
        "stances_v": f"""
SELECT x.id AS stance_id, x.article_id, x.holder_id, h.name AS holder, x.polarity,
       x.target_id, t.name AS target, x.target_text,
       COALESCE(t.name, x.target_text) AS target_label, x.cue, {evidence}, {article}
FROM stances x JOIN actors h ON h.id = x.holder_id {joins}
LEFT JOIN actors t ON t.id = x.target_id""",
        "events_v": f"""
SELECT x.id AS event_id, x.article_id, x.type, x.cameo, x.plover,
       x.source_id, src.name AS source, x.target_id, tgt.name AS target,
       am.value AS amount_value, am.currency AS amount_currency, x.event_date,
       {evidence}, {article}
FROM events x {joins}
LEFT JOIN actors src ON src.id = x.source_id LEFT JOIN actors tgt ON tgt.id = x.target_id
LEFT JOIN amounts am ON am.id = x.amount_id""",
        "actor_daily_v": """
SELECT ac.id AS actor_id, ac.name AS actor, ac.type AS actor_type, x.day,
       COUNT(*) AS mentions, COUNT(DISTINCT x.article_id) AS articles
FROM mentions x JOIN actors ac ON ac.id = x.actor_id
GROUP BY ac.id, ac.name, ac.type, x.day""",
    }


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in REBUILT_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for table in TABLES:
        op.add_column(table, sa.Column("day", sa.Date(), nullable=True))
        op.execute(f"UPDATE {table} SET day = (SELECT {_article_day(dialect)} "
                   f"FROM articles a WHERE a.id = {table}.article_id)")
    for name, table, _columns in OLD_INDEXES:
        op.drop_index(name, table_name=table)
    for name, table, columns in NEW_INDEXES:
        op.create_index(name, table, list(columns))
    for name, sql in _views(dialect).items():
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def _revision_0002():  # noqa: ANN202 - the migration module, for its view SQL
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("0002_researcher_views.py")
    spec = importlib.util.spec_from_file_location("newsmon_migration_0002", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in REBUILT_VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for name, table, _columns in NEW_INDEXES:
        op.drop_index(name, table_name=table)
    for name, table, columns in OLD_INDEXES:
        op.create_index(name, table, list(columns))
    for table in TABLES:
        with op.batch_alter_table(table) as batch:
            batch.drop_column("day")
    old_views = _revision_0002()._views(dialect)
    for name in reversed(REBUILT_VIEWS):
        op.execute(f"CREATE VIEW {name} AS {old_views[name].strip()}")
