"""Loading a rate card: a CSV file `kind,country,per_minute,connection_fee[,currency]` or inline rates.

A CSV card states its currency, in a `currency` column or a line `currency,USD` before the
header; it must be the scenario's (R1: one currency, no conversion)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

from models.money import MoneyError, format_money, parse_money
from models.rates import KINDS, Rate, RateCard

from sim.errors import InputError

from .countries import country_problem
from .spec_base import MAX_RATE_AMOUNT
from .yamlfile import clip, decode_error

HEADER = ["kind", "country", "per_minute", "connection_fee"]


def _default_card() -> Path:
    """The project's illustrative card, wherever the scenario is (a scenario without `rates:`
    uses it): rates/ beside the code in a checkout or an editable install, else the copy a
    wheel installs with this package (sim/inputs/data/, pyproject.toml package-data), which
    is found however pip laid the install out (--prefix, --user, --target)."""
    name = "illustrative-usd.csv"
    beside = Path(__file__).resolve().parents[2] / "rates" / name
    packaged = Path(__file__).resolve().parent / "data" / name
    return beside if beside.exists() or not packaged.exists() else packaged


DEFAULT_CARD = _default_card()


def _currency(where: str, code: str, expected: str) -> None:
    if not code:
        raise InputError(where, f"currency is empty; expected the scenario's, {expected}")
    if code != expected:
        raise InputError(where, f"the rate card is in {code} but the scenario's currency is {expected}; rates are "
                                f"never converted: use a card in {expected}, or set `currency: {code}` in the scenario")


def load_rate_csv(path: Path, currency: str) -> RateCard:
    card = RateCard()
    try:
        data = path.read_bytes()
    except OSError as e:
        raise InputError(str(path), f"cannot read the rate card ({e.strerror or e})") from None
    try:
        reader = csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""))
        rows = list(reader)
    except UnicodeDecodeError as e:
        raise decode_error(path, data, e) from None
    except csv.Error as e:                      # a field past csv's 128 kB limit, a NUL byte
        raise InputError(f"{path}:{reader.line_num}", f"not a readable CSV line ({e})") from None
    # Comment lines (#) let the card say what it is, e.g. that its figures are illustrative.
    numbered = [(n, r) for n, r in enumerate(rows, 1) if r and not r[0].lstrip().startswith("#")]
    stated = None
    if numbered and numbered[0][1] and numbered[0][1][0].strip() == "currency":
        n, row = numbered.pop(0)
        stated = row[1].strip() if len(row) == 2 else None
        if stated is None:
            raise InputError(f"{path}:{n}", "expected a line `currency,USD` (the card's ISO 4217 currency)")
        _currency(f"{path}:{n}", stated, currency)
    header = [c.strip() for c in numbered[0][1]] if numbered else []
    if header not in (HEADER, HEADER + ["currency"]):
        raise InputError(f"{path}:{numbered[0][0] if numbered else 1}",
                         f"expected the header {','.join(HEADER)} (and a `currency` column, or a line "
                         "`currency,USD` before it)")
    has_column = len(header) == 5
    if stated is None and not has_column:
        raise InputError(f"{path}:{numbered[0][0]}", "the rate card does not state its currency: add a line "
                                                     f"`currency,{currency}` before the header, or a `currency` column")
    for n, row in numbered[1:]:
        where = f"{path}:{n}"
        if len(row) != len(header):
            raise InputError(where, f"expected {len(header)} columns ({','.join(header)}), got {len(row)}")
        kind, country, per_min, fee = (c.strip() for c in row[:4])
        if has_column:
            _currency(where, row[4].strip(), currency)
        if kind not in KINDS:
            raise InputError(where, f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if country != "*" and (problem := country_problem(country)):
            raise InputError(where, f"country: {problem} (or * for every other country)")
        amounts = []
        for column, text in (("per_minute", per_min), ("connection_fee", fee or "0")):
            try:
                amounts.append(parse_money(text))
            except MoneyError as e:
                raise InputError(where, f"{column}: {e}") from None
        rate = Rate(*amounts)
        if rate.per_minute < 0 or rate.connection_fee < 0:
            raise InputError(where, "rates must not be negative")
        if max(amounts) > MAX_RATE_AMOUNT:
            column = "per_minute" if amounts[0] > MAX_RATE_AMOUNT else "connection_fee"
            raise InputError(where, f"{column}: expected at most {format_money(MAX_RATE_AMOUNT)}, got "
                                    f"{clip(per_min if column == 'per_minute' else fee)}")
        table = getattr(card, kind)
        if country in table:
            raise InputError(where, f"{kind} rate for {country} is given twice")
        table[country] = rate
    return card


def rate_card_from_inline(inline) -> RateCard:
    card = RateCard()
    for kind in KINDS:
        for country, r in getattr(inline, kind).items():
            getattr(card, kind)[country] = Rate(r.per_minute, r.connection_fee)
    return card
