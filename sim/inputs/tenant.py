"""The tenant's users: explicit ones and generated groups (names via Faker, numbers
and time zones of their country via phonenumbers), reproducible from the seed."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import phonenumbers
from phonenumbers import timezone as pn_timezone

from models.licences import LicenceSet

FAKER_LOCALES = {
    "US": "en_US", "CA": "en_CA", "GB": "en_GB", "IE": "en_IE", "AU": "en_AU", "NZ": "en_NZ",
    "IN": "en_IN", "DE": "de_DE", "AT": "de_AT", "CH": "de_CH", "FR": "fr_FR", "BE": "fr_BE",
    "NL": "nl_NL", "ES": "es_ES", "MX": "es_MX", "IT": "it_IT", "PT": "pt_PT", "BR": "pt_BR",
    "PL": "pl_PL", "SE": "sv_SE", "NO": "no_NO", "DK": "da_DK", "FI": "fi_FI", "CZ": "cs_CZ",
    "JP": "ja_JP", "CN": "zh_CN", "TW": "zh_TW", "KR": "ko_KR", "PR": "es_ES", "ZA": "en_US",
}


@dataclass
class TenantUser:
    upn: str
    display_name: str
    country: str
    number: str
    tz: str
    licence_set: LicenceSet
    dialout_policy: str
    object_id: str
    outbound_calls_per_day: float | None = None     # None: the traffic block's rate


# Where a country spans zones, the one most of its offices are in.
MAIN_TIMEZONE = {"US": "America/New_York", "CA": "America/Toronto", "IN": "Asia/Kolkata",
                 "AU": "Australia/Sydney", "BR": "America/Sao_Paulo", "MX": "America/Mexico_City",
                 "RU": "Europe/Moscow", "CN": "Asia/Shanghai"}


@lru_cache(maxsize=None)
def country_timezone(country: str) -> str:
    if country in MAIN_TIMEZONE:
        return MAIN_TIMEZONE[country]
    ex = phonenumbers.example_number_for_type(country, phonenumbers.PhoneNumberType.FIXED_LINE)
    if ex is not None:
        zones = pn_timezone.time_zones_for_number(ex)
        if zones and zones[0] != "Etc/Unknown":
            return zones[0]
    return "UTC"


def number_timezone(number: str) -> str | None:
    """The time zone a number's area code fixes, if it fixes exactly one (a US 415 number: Los Angeles)."""
    try:
        zones = pn_timezone.time_zones_for_number(phonenumbers.parse(number, None))
    except phonenumbers.NumberParseException:
        return None
    return zones[0] if len(zones) == 1 and zones[0] != "Etc/Unknown" else None


def user_timezone(spec) -> str:
    """An explicit user's zone: the `timezone` key, else the area code of a given number, else the country's."""
    return spec.timezone or (spec.number and number_timezone(spec.number)) or country_timezone(spec.country)


@lru_cache(maxsize=None)
def _example(country: str, kind) -> phonenumbers.PhoneNumber | None:
    return phonenumbers.example_number_for_type(country, kind) or phonenumbers.example_number(country)


@lru_cache(maxsize=1 << 18)
def _valid_e164(country_code: int, national: int) -> str | None:
    """The E.164 text of a candidate number, or None when it is not valid (a cache: a million users
    of one country share at most 10,000 candidate endings)."""
    candidate = phonenumbers.PhoneNumber(country_code=country_code, national_number=national)
    if phonenumbers.is_valid_number(candidate):
        return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    return None


def make_number(country: str, rng: np.random.Generator, kind=phonenumbers.PhoneNumberType.FIXED_LINE) -> str:
    """A valid-looking E.164 number of the country: its example number with new last digits."""
    ex = _example(country, kind)
    if ex is None:
        code = phonenumbers.country_code_for_region(country) or 1
        return f"+{code}{rng.integers(10**8, 10**9)}"
    national = str(ex.national_number)
    for _ in range(5):
        tail = "".join(str(d) for d in rng.integers(0, 10, size=min(4, len(national) - 1)))
        number = _valid_e164(ex.country_code, int(national[: len(national) - len(tail)] + tail))
        if number is not None:
            return number
    return phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.E164)


@lru_cache(maxsize=1 << 16)
def _ascii(s: str) -> str:
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", ".", s.lower()).strip(".") or "user"


def _object_id(rng: np.random.Generator) -> str:
    b = rng.integers(0, 256, size=16, dtype=np.uint8).tobytes().hex()
    return f"{b[:8]}-{b[8:12]}-4{b[13:16]}-a{b[17:20]}-{b[20:32]}"


def build_users(scenario, seed: int) -> list[TenantUser]:
    from faker import Faker

    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7E4A47]))
    users: list[TenantUser] = []
    taken: set[str] = set()
    for u in scenario.tenant.users:
        name = u.display_name or u.upn.split("@")[0].replace(".", " ").title()
        users.append(TenantUser(u.upn, name, u.country, u.number or make_number(u.country, rng),
                                user_timezone(u), LicenceSet.of(u.licences), u.dialout_policy,
                                _object_id(rng), u.outbound_calls_per_day))
        taken.add(u.upn.lower())
    domain = scenario.tenant.domain
    next_n: dict[str, int] = {}       # per UPN base, the suffix to try next (a million users share names)
    domain_l = domain.lower()             # `base` is lower-case already (_ascii)
    for g_idx, g in enumerate(scenario.tenant.generate):
        lic = LicenceSet.of(g.licences)
        tz = g.timezone or country_timezone(g.country)      # generated numbers' area codes mean nothing
        if g.count <= NAME_POOL:
            names = _faker_names(g, g_idx, seed, g.count)
            identities = ((make_number(g.country, rng), _object_id(rng)) for _ in range(g.count))
        else:
            pick = np.random.default_rng(np.random.SeedSequence([seed, 0x7E4A47, g_idx]))
            names = _pooled_names(g, g_idx, seed, pick)
            identities = zip(_numbers(g.country, g.count, pick), _object_ids(g.count, pick))
        for (first, last), (number, object_id) in zip(names, identities):
            # base{n} for the smallest n >= 1 (no suffix for 1) whose UPN is free; every smaller n
            # is taken already, so the search resumes where the base's last one ended.
            base = f"{_ascii(first)}.{_ascii(last)}"
            n = next_n.get(base, 1)
            local = f"{base}{n}" if n > 1 else base
            while f"{local}@{domain_l}" in taken:
                n += 1
                local = f"{base}{n}"
            next_n[base] = n + 1
            taken.add(f"{local}@{domain_l}")
            upn = f"{local}@{domain}"
            users.append(TenantUser(upn, f"{first} {last}", g.country, number, tz, lic, g.dialout_policy, object_id,
                                    g.outbound_calls_per_day))
    return users


# Up to NAME_POOL users a group draws each user's names from Faker and number and id from the
# tenant's stream, one by one. A larger group (up to a million) is drawn in bulk from its own
# stream: Faker costs ~0.2 ms a name and a numpy call per user ~5 us, minutes for a million.
NAME_POOL = 1000


def _faker_names(group, g_idx: int, seed: int, n: int) -> list[tuple[str, str]]:
    from faker import Faker

    fake = Faker(FAKER_LOCALES.get(group.country, "en_US"))
    fake.seed_instance(seed * 1000 + g_idx)
    return [(fake.first_name(), fake.last_name()) for _ in range(n)]


def _pooled_names(group, g_idx: int, seed: int, pick: np.random.Generator):
    """NAME_POOL first and last names from Faker (its frequency weights kept), paired at random."""
    pool = _faker_names(group, g_idx, seed, NAME_POOL)
    i, j = (pick.integers(0, NAME_POOL, group.count).tolist() for _ in range(2))
    return ((pool[a][0], pool[b][1]) for a, b in zip(i, j))


def _numbers(country: str, n: int, pick: np.random.Generator) -> list[str]:
    """make_number for n users at once: new last digits on the example number, redrawn where invalid."""
    ex = _example(country, phonenumbers.PhoneNumberType.FIXED_LINE)
    if ex is None:
        code = phonenumbers.country_code_for_region(country) or 1
        return [f"+{code}{x}" for x in pick.integers(10**8, 10**9, n).tolist()]
    national = ex.national_number
    k = min(4, len(str(national)) - 1)
    out: list[str | None] = [None] * n
    todo = np.arange(n)
    for _ in range(5):
        candidates = (national // 10**k) * 10**k + pick.integers(0, 10**k, len(todo))
        texts = {c: _valid_e164(ex.country_code, c) for c in np.unique(candidates).tolist()}
        for row, c in zip(todo.tolist(), candidates.tolist()):
            out[row] = texts[c]
        todo = np.array([r for r in todo.tolist() if out[r] is None], dtype=np.int64)
        if not len(todo):
            break
    fallback = phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.E164)
    return [x or fallback for x in out]


def _object_ids(n: int, pick: np.random.Generator) -> list[str]:
    raw = pick.integers(0, 256, size=(n, 16), dtype=np.uint8)
    return [(b := row.hex()) and f"{b[:8]}-{b[8:12]}-4{b[13:16]}-a{b[17:20]}-{b[20:32]}" for row in map(bytes, raw)]
