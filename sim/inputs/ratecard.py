"""Loading a rate card: a CSV file `kind,country,per_minute,connection_fee` or inline rates."""
from __future__ import annotations

import csv
from pathlib import Path

from models.money import MoneyError, parse_money
from models.rates import KINDS, Rate, RateCard

from sim.errors import InputError

HEADER = ["kind", "country", "per_minute", "connection_fee"]


def load_rate_csv(path: Path) -> RateCard:
    card = RateCard()
    try:
        with path.open(newline="", encoding="utf-8-sig") as f:
            rows = list(csv.reader(f))
    except (OSError, UnicodeDecodeError) as e:
        raise InputError(str(path), f"cannot read the rate card ({getattr(e, 'strerror', None) or e})") from None
    # Comment lines (#) let the card say what it is, e.g. that its figures are illustrative.
    numbered = [(n, r) for n, r in enumerate(rows, 1) if r and not r[0].lstrip().startswith("#")]
    if not numbered or [c.strip() for c in numbered[0][1]] != HEADER:
        raise InputError(f"{path}:{numbered[0][0] if numbered else 1}", f"expected the header {','.join(HEADER)}")
    for n, row in numbered[1:]:
        where = f"{path}:{n}"
        if len(row) != 4:
            raise InputError(where, f"expected 4 columns ({','.join(HEADER)}), got {len(row)}")
        kind, country, per_min, fee = (c.strip() for c in row)
        if kind not in KINDS:
            raise InputError(where, f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
        if country != "*" and not (len(country) == 2 and country.isalpha() and country.isupper()):
            raise InputError(where, f"country must be a two-letter code like US or *, got {country!r}")
        try:
            rate = Rate(parse_money(per_min), parse_money(fee or "0"))
        except MoneyError as e:
            raise InputError(where, f"per_minute/connection_fee: {e}") from None
        if rate.per_minute < 0 or rate.connection_fee < 0:
            raise InputError(where, "rates must not be negative")
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
