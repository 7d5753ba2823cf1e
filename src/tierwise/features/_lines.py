"""What an order line counts as: a purchase, a paid line, a refund (one definition for every
order feature)."""

from __future__ import annotations

from typing import Final

import ibis
import ibis.expr.types as ir

PAID: Final = ("paid", "pending")
REFUND: Final = ("refunded", "cancelled")


def is_paid(o: ir.Table) -> ir.BooleanValue:
    """Paid or pending; a blank status counts as paid."""
    return o.status.isin(PAID) | o.status.isnull()


def is_purchase(o: ir.Table) -> ir.BooleanValue:
    """A line that makes its day a purchase occasion: paid, with an amount of 0 or more."""
    return is_paid(o) & (o.amount.fill_null(0.0) >= 0)


def refund_value(o: ir.Table) -> ir.FloatingValue:
    """Refunded value of a line: unpaid (refunded, cancelled…) or negative amounts."""
    amount = o.amount.fill_null(0.0)
    return ibis.ifelse(~is_paid(o) | (amount < 0), amount.abs(), 0.0)


__all__ = ["PAID", "REFUND", "is_paid", "is_purchase", "refund_value"]
