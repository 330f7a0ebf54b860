"""feeds.moved_from (a 301 moves a feed for good) and articles.fetch_url (the link as given)

Revision ID: 0005
Revises: 0004

A permanent redirect moves a feed for good: the stored URL becomes the new one,
and ``moved_from`` keeps the URL the feeds file still names, so a restart does
not put the old URL (and cleared validators) back.

``articles.url`` is the de-duplication key (tracking parameters dropped);
``fetch_url`` is the link exactly as the feed gave it, which is what is
requested: rewriting a query ("?12345" -> "?12345=") fetched another page.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no batch copy): on SQLite a table rebuilt under the
    # researcher views breaks them ("error in view articles_v").
    op.add_column("feeds", sa.Column("moved_from", sa.Text(), nullable=True))
    op.add_column("articles", sa.Column("fetch_url", sa.Text(), nullable=True))


def downgrade() -> None:
    # DROP COLUMN exists in SQLite since 3.35 and in PostgreSQL; no table rebuild.
    op.execute("ALTER TABLE articles DROP COLUMN fetch_url")
    op.execute("ALTER TABLE feeds DROP COLUMN moved_from")
