"""feeds.moved_from: the feeds-file URL of a feed that answered 301

Revision ID: 0005
Revises: 0004

A permanent redirect moves a feed for good: the stored URL becomes the new one,
and ``moved_from`` keeps the URL the feeds file still names, so a restart does
not put the old URL (and cleared validators) back.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.add_column(sa.Column("moved_from", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("feeds") as batch:
        batch.drop_column("moved_from")
