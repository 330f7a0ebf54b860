from __future__ import annotations

import pytest

from extractors.amounts import parse_money

# text, value, currency: the normalisation table SPEC.md describes.
TABLE = [
    ("$100 billion", 100e9, "USD"),
    ("US$5m", 5e6, "USD"),
    ("A$2.5bn", 2.5e9, "AUD"),
    ("C$300", 300, "CAD"),
    ("€21 billion", 21e9, "EUR"),
    ("£1,400", 1400, "GBP"),
    ("£102.80", 102.8, "GBP"),
    ("pounds 8bn", 8e9, "GBP"),
    ("850m euros", 850e6, "EUR"),
    ("dollars 10bn", 10e9, "USD"),
    ("797.72-million euro", 797.72e6, "EUR"),
    ("USD841 million", 841e6, "USD"),
    ("$841M", 841e6, "USD"),
    ("$40-50 billion", 40e9, "USD"),
    ("$3 trillion", 3e12, "USD"),
    ("$50k", 50e3, "USD"),
    ("€2 mn", 2e6, "EUR"),
    ("80p", 0.8, "GBP"),
    ("5 million Canadian dollars", 5e6, "CAD"),
]


@pytest.mark.parametrize(("text", "value", "currency"), TABLE)
def test_normalisation(text: str, value: float, currency: str) -> None:
    got = parse_money(text)
    assert got is not None
    assert got[1] == currency
    assert got[0] == pytest.approx(value)


@pytest.mark.parametrize("text", ["100 people", "in 2024", "5 billion years", "the 80 percent"])
def test_no_currency_no_amount(text: str) -> None:
    assert parse_money(text) is None


def test_period_donor_recipient(run) -> None:
    a = run("NATO allies will provide $100 billion to Ukraine over the next five years.")
    (amount,) = a.amounts
    assert amount.value == 100e9 and amount.currency == "USD"
    assert amount.period_years == 5
    assert amount.donor == "NATO"
    assert amount.recipient == "Ukraine"


def test_fine_is_paid_by_the_fined(run) -> None:
    a = run("The European Commission hit Google with a €2.4 billion fine.")
    (amount,) = a.amounts
    assert amount.donor == "Google"
    assert amount.recipient == "European Commission"


def test_annual_amount(run) -> None:
    a = run("Germany pledged €8 billion a year to the fund.")
    assert a.amounts[0].period_years == 1


@pytest.mark.parametrize("text", ["4 p.m.", "the 5 p.m. meeting"])
def test_clock_times_are_not_pence(text: str) -> None:
    assert parse_money(text) is None
