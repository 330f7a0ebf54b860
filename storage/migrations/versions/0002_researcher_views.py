"""researcher views (*_v) and the indexes their common queries need

The views are the stable, documented surface researchers query (names end in
``_v``; their columns are listed in ``storage/views.py``). They join ids to
names, carry the evidence sentence and the article's URL, feed and dates, and
leave out rows of articles that are duplicates of another article, so a story
carried by five feeds counts once. The raw tables keep everything.

The SQL is written once for both backends; only the date bucketing differs
(SQLite has no date type: ``date()``/``strftime()`` give ISO text, PostgreSQL
gives a ``date`` and ``to_char``). The SQL is frozen here on purpose: a later
change to a view is a new migration, never an edit of this one.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# (index name, table, columns). Composite indexes so that the filters
# researchers use most ("stances on X since D", "amounts to Y by month") are
# answered from the indexes instead of table rows; the trailing columns make
# the amounts indexes covering for sums through amounts_v.
INDEXES = (
    ("ix_stances_target_article", "stances", ("target_id", "article_id")),
    ("ix_stances_holder_article", "stances", ("holder_id", "article_id")),
    ("ix_amounts_recipient_article", "amounts",
     ("recipient_id", "article_id", "currency", "value", "donor_id")),
    ("ix_amounts_donor_article", "amounts",
     ("donor_id", "article_id", "currency", "value", "recipient_id")),
    # Lets the views reach an article's dates, duplicate flag and feed without
    # reading the row (which carries the whole text).
    ("ix_articles_id_dates", "articles",
     ("id", "published", "discovered_at", "duplicate_of", "feed_id")),
    ("ix_articles_duplicate_of", "articles", ("duplicate_of",)),
)


def _dates(dialect: str, column: str) -> dict[str, str]:
    when = f"COALESCE({column}.published, {column}.discovered_at)"
    if dialect == "postgresql":
        return {"day": f"CAST({when} AS DATE)", "month": f"to_char({when}, 'YYYY-MM')"}
    return {"day": f"date({when})", "month": f"strftime('%Y-%m', {when})"}


def _views(dialect: str) -> dict[str, str]:
    d = _dates(dialect, "a")
    article = (
        "a.url, a.title, a.published, {day} AS day, f.name AS feed".format(**d)
    )
    joins = "JOIN articles a ON a.id = x.article_id LEFT JOIN feeds f ON f.id = a.feed_id"
    evidence = (
        "x.sentence, x.start AS char_start, x.\"end\" AS char_end, "
        "x.confidence, x.extractor_version"
    )
    return {
        "articles_v": f"""
SELECT a.id, a.url, a.title, a.published, a.discovered_at, {d['day']} AS day,
       f.name AS feed, a.language, a.status, a.skip_reason, a.duplicate_of,
       (SELECT COUNT(*) FROM article_sources s WHERE s.article_id = a.id) AS sources,
       a.extractor_version
FROM articles a LEFT JOIN feeds f ON f.id = a.feed_id""",
        "actor_mentions_v": f"""
SELECT x.id AS mention_id, x.article_id, ac.id AS actor_id, ac.name AS actor,
       ac.type AS actor_type, x.text AS mention, {evidence}, {article}
FROM mentions x JOIN actors ac ON ac.id = x.actor_id {joins}
WHERE a.duplicate_of IS NULL""",
        "amounts_v": f"""
SELECT x.id AS amount_id, x.article_id, x.value, x.currency, x.period_years,
       x.donor_id, dn.name AS donor, x.recipient_id, rc.name AS recipient,
       x.text, {evidence}, {article}, {d['month']} AS month
FROM amounts x {joins}
LEFT JOIN actors dn ON dn.id = x.donor_id LEFT JOIN actors rc ON rc.id = x.recipient_id
WHERE a.duplicate_of IS NULL""",
        "stances_v": f"""
SELECT x.id AS stance_id, x.article_id, x.holder_id, h.name AS holder, x.polarity,
       x.target_id, t.name AS target, x.target_text,
       COALESCE(t.name, x.target_text) AS target_label, x.cue, {evidence}, {article}
FROM stances x JOIN actors h ON h.id = x.holder_id {joins}
LEFT JOIN actors t ON t.id = x.target_id
WHERE a.duplicate_of IS NULL""",
        "events_v": f"""
SELECT x.id AS event_id, x.article_id, x.type, x.cameo, x.plover,
       x.source_id, src.name AS source, x.target_id, tgt.name AS target,
       am.value AS amount_value, am.currency AS amount_currency, x.event_date,
       {evidence}, {article}
FROM events x {joins}
LEFT JOIN actors src ON src.id = x.source_id LEFT JOIN actors tgt ON tgt.id = x.target_id
LEFT JOIN amounts am ON am.id = x.amount_id
WHERE a.duplicate_of IS NULL""",
        "actor_daily_v": f"""
SELECT ac.id AS actor_id, ac.name AS actor, ac.type AS actor_type, {d['day']} AS day,
       COUNT(*) AS mentions, COUNT(DISTINCT x.article_id) AS articles
FROM mentions x JOIN actors ac ON ac.id = x.actor_id JOIN articles a ON a.id = x.article_id
WHERE a.duplicate_of IS NULL
GROUP BY ac.id, ac.name, ac.type, {d['day']}""",
    }


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, table, columns in INDEXES:
        op.create_index(name, table, list(columns))
    for name, sql in _views(dialect).items():
        op.execute(f"CREATE VIEW {name} AS {sql.strip()}")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name in reversed(list(_views(dialect))):
        op.execute(f"DROP VIEW IF EXISTS {name}")
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
