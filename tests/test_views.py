"""The *_v views: their columns are the documented ones, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import command

from storage.db import Database, alembic_config, upgrade
from storage.views import VIEWS
from tests.support.rows import fill_realistic


def _columns(db: Database, view: str) -> list[str]:
    with db.engine.connect() as conn:
        return list(conn.execute(sa.text(f"SELECT * FROM {view} WHERE 1 = 0")).keys())


def test_view_columns_are_the_documented_ones(db: Database) -> None:
    for name, view in VIEWS.items():
        assert _columns(db, name) == view.column_names, name
        for column in view.columns:
            assert column.doc, f"{name}.{column.name} has no description"


def test_views_fold_duplicates_and_join_names(db: Database) -> None:
    data = fill_realistic(db)
    with db.engine.connect() as conn:
        q = lambda sql, **p: conn.execute(sa.text(sql), p).all()  # noqa: E731
        lead, copy = data.articles["lead"], data.articles["lead-bbc"]
        assert q("SELECT sources, duplicate_of FROM articles_v WHERE id = :i", i=lead) == [(2, None)]
        assert q("SELECT duplicate_of FROM articles_v WHERE id = :i", i=copy) == [(lead,)]
        stance = q("SELECT holder, polarity, target, cue, feed, url FROM stances_v "
                   "WHERE cue = 'pushback'")
        assert stance == [("White House", "oppose", "Jens Stoltenberg", "pushback",
                           "Reuters World", "https://news.example/reuters/lead")]
        amount = q("SELECT donor, recipient, value, currency, period_years, month "
                   "FROM amounts_v WHERE currency = 'USD'")
        assert amount == [("NATO", "Ukraine", 100e9, "USD", 5.0, "2024-08")]
        event = q("SELECT source, target, amount_value, amount_currency, cameo, plover "
                  "FROM events_v WHERE type = 'pledge'")
        assert event == [("Germany", "Ukraine", 500e6, "EUR", "07", "AID")]
        daily = q("SELECT mentions, articles FROM actor_daily_v "
                  "WHERE actor = 'Jens Stoltenberg' AND day = '2024-08-07'")
        assert daily == [(1, 1)]
        topic = q("SELECT target, target_text, target_label FROM stances_v WHERE cue = 'proposed'")
        assert topic == [(None, "NATO aid fund", "NATO aid fund")]


def test_downgrade_drops_the_views_and_upgrade_restores_them(db: Database) -> None:
    command.downgrade(alembic_config(db.engine), "0001")
    assert not set(VIEWS) & set(sa.inspect(db.engine).get_view_names())
    upgrade(db.engine)
    assert set(VIEWS) <= set(sa.inspect(db.engine).get_view_names())


def test_monthly_summary_equals_the_raw_sums(db: Database) -> None:
    fill_realistic(db)
    raw = ("SELECT recipient, donor, month, currency, SUM(value), COUNT(*) FROM amounts_v "
           "GROUP BY recipient, donor, month, currency ORDER BY 1, 2, 3, 4")
    summary = ("SELECT recipient, donor, month, currency, total, amounts FROM amounts_monthly_v "
               "ORDER BY 1, 2, 3, 4")
    with db.engine.connect() as conn:
        expected = conn.execute(sa.text(raw)).all()
        assert expected and conn.execute(sa.text(summary)).all() == expected
