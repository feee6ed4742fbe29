"""ISO 3166-1 alpha-2 country codes: the only country codes scenarios, rate cards and reports accept."""
from __future__ import annotations

import difflib

# The 249 officially assigned codes of ISO 3166-1 (as of 2024).
ISO_3166_ALPHA2 = frozenset("""
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR BS BT BV
BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ EC EE EG EH ER ES
ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW GY HK HM HN HR HT HU ID IE
IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY
MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU
NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM
SN SO SR SS ST SV SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE
VG VI VN VU WF WS YE YT ZA ZM ZW""".split())

# Codes people write that ISO 3166 spells otherwise (UK and EL are the EU's own abbreviations).
HINTS = {"UK": "GB", "EL": "GR", "USA": "US", "GBR": "GB", "DEU": "DE"}


def country_problem(code: object) -> str | None:
    """None for a valid code, else what to say about it."""
    if isinstance(code, str) and code in ISO_3166_ALPHA2:
        return None
    shown = code if isinstance(code, str) else str(code)
    hint = HINTS.get(shown.upper()) if isinstance(code, str) else None
    if hint is None and isinstance(code, str) and code.upper() in ISO_3166_ALPHA2:
        hint = code.upper()
    text = f"{shown!r} is not an ISO 3166-1 alpha-2 country code (a two-letter code like US, GB, DE)"
    return text + (f"; did you mean {hint}?" if hint else "")


def suggest(word: str, choices) -> str:
    """'; did you mean X?' for a near miss among `choices`, else ''."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.7)
    return f"; did you mean `{close[0]}`?" if close else ""
