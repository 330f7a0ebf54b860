"""amount_months summary and amounts_monthly_v

Revision ID: 0004
Revises: 0003

"Amounts to recipient Y by month" must stay fast when one recipient has
100,000+ amounts; a summary per (recipient, donor, month, currency), rebuilt
by the daemon, answers it from a few rows (see storage.summaries).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

VIEW = """
SELECT m.recipient_id, rc.name AS recipient, m.donor_id, dn.name AS donor, m.month,
       m.currency, m.total, m.amounts
FROM amount_months m
LEFT JOIN actors rc ON rc.id = m.recipient_id LEFT JOIN actors dn ON dn.id = m.donor_id"""


def _month(dialect: str) -> str:
    return "to_char(day, 'YYYY-MM')" if dialect == "postgresql" else "strftime('%Y-%m', day)"


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "amount_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("recipient_id", sa.Integer(), nullable=True),
        sa.Column("donor_id", sa.Integer(), nullable=True),
        sa.Column("month", sa.String(length=7), nullable=True),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("amounts", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["donor_id"], ["actors.id"], ondelete="CASCADE",
                                name=op.f("fk_amount_months_donor_id_actors")),
        sa.ForeignKeyConstraint(["recipient_id"], ["actors.id"], ondelete="CASCADE",
                                name=op.f("fk_amount_months_recipient_id_actors")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_amount_months")),
    )
    op.create_index("ix_amount_months_recipient", "amount_months", ["recipient_id", "month"])
    op.create_index("ix_amount_months_donor", "amount_months", ["donor_id", "month"])
    op.execute(
        "INSERT INTO amount_months (recipient_id, donor_id, month, currency, total, amounts) "
        f"SELECT recipient_id, donor_id, {_month(dialect)}, currency, SUM(value), COUNT(*) "
        f"FROM amounts GROUP BY recipient_id, donor_id, {_month(dialect)}, currency"
    )
    op.execute(f"CREATE VIEW amounts_monthly_v AS {VIEW.strip()}")


def downgrade() -> None:
    op.execute("DROP VIEW IF EXISTS amounts_monthly_v")
    op.drop_index("ix_amount_months_donor", table_name="amount_months")
    op.drop_index("ix_amount_months_recipient", table_name="amount_months")
    op.drop_table("amount_months")
