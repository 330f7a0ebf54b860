"""quotes and quotes_v: who said what, direct or reported, with the sentence

Revision ID: 0006
Revises: 0005

A quote is what a named actor said, wrote or stated: the words inside the
quotation marks (direct) or the reported clause ("X said that ..."). Rows carry
the same evidence columns as the other extracted rows and the article's day.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

VIEW = """
SELECT x.id AS quote_id, x.article_id, x.speaker_id, s.name AS speaker, x.kind, x.cue,
       x.text AS quote, x.sentence, x.start AS char_start, x."end" AS char_end,
       x.confidence, x.extractor_version, a.url, a.title, a.published, x.day, f.name AS feed
FROM quotes x JOIN actors s ON s.id = x.speaker_id
LEFT JOIN articles a ON a.id = x.article_id LEFT JOIN feeds f ON f.id = a.feed_id"""


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("speaker_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("cue", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("sentence", sa.Text(), nullable=False),
        sa.Column("sent_start", sa.Integer(), nullable=False),
        sa.Column("sent_end", sa.Integer(), nullable=False),
        sa.Column("start", sa.Integer(), nullable=False),
        sa.Column("end", sa.Integer(), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=False),
        sa.Column("extractor_version", sa.String(length=40), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.CheckConstraint("kind IN ('direct','reported')", name=op.f("ck_quotes_kind")),
        sa.ForeignKeyConstraint(["article_id"], ["articles.id"],
                                name=op.f("fk_quotes_article_id_articles"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["speaker_id"], ["actors.id"],
                                name=op.f("fk_quotes_speaker_id_actors"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
    )
    op.create_index("ix_quotes_article", "quotes", ["article_id"])
    op.create_index("ix_quotes_speaker_day", "quotes", ["speaker_id", "day"])
    op.execute(f"CREATE VIEW quotes_v AS {VIEW}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS quotes_v")
    op.drop_table("quotes")
