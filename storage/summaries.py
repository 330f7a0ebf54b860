"""Summary tables: rebuilt whole from the rows they sum, by one writer.

A rebuild is one INSERT ... SELECT over the amounts (about a second per
million rows) inside the caller's transaction, so readers see the old
summary or the new one, never half of it. Only the daemon (one per database,
see storage.lease) and the one-shot commands rebuild, so there is no race
between two writers; a worker never touches it.
"""

from __future__ import annotations

from sqlalchemy import delete, func, insert, literal_column, select
from sqlalchemy.orm import Session

from storage.models import Amount, AmountMonth


def _month(session: Session):  # noqa: ANN202 - a SQL expression
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(Amount.day, literal_column("'YYYY-MM'"))
    return func.strftime(literal_column("'%Y-%m'"), Amount.day)


def refresh_amount_months(*, session: Session) -> int:
    """Rebuild amount_months from amounts; returns the number of summary rows."""
    month = _month(session)
    grouped = (
        select(Amount.recipient_id, Amount.donor_id, month, Amount.currency,
               func.sum(Amount.value), func.count())
        .group_by(Amount.recipient_id, Amount.donor_id, month, Amount.currency)
    )
    session.execute(delete(AmountMonth))
    result = session.execute(insert(AmountMonth).from_select(
        ["recipient_id", "donor_id", "month", "currency", "total", "amounts"], grouped))
    return result.rowcount or 0


def refresh_all(*, session: Session) -> None:
    refresh_amount_months(session=session)
