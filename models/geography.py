"""Countries as billing sees them (R3 domestic rule, R4 pool country, R5 Zone A)."""
from __future__ import annotations

# R5: the 44 Audio Conferencing dial-out Zone A countries and regions.
ZONE_A = frozenset(
    "AU AT BE BR BG CA CN HR CZ DK EE FI FR DE GR HK HU IN IE IT JP LU MY MX NL NZ NO PL "
    "PT PR RO RU SG SK SI ZA KR ES SE CH TW TH GB US".split()
)

# R2: countries whose MCOPSTN1/2 plans carry 3000 domestic minutes a month.
NORTH_AMERICA_3000 = frozenset({"US", "PR", "CA"})
_NANP_JOINED = frozenset({"US", "PR", "CA"})


def pool_country(country: str) -> str:
    """US and PR users share one pool (R4)."""
    return "US" if country == "PR" else country


def is_domestic(user_country: str, destination: str) -> bool:
    """R3: same country, with US+PR as one, and US/PR <-> CA counted as domestic."""
    if user_country == destination:
        return True
    return user_country in _NANP_JOINED and destination in _NANP_JOINED
