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


def make_number(country: str, rng: np.random.Generator, kind=phonenumbers.PhoneNumberType.FIXED_LINE) -> str:
    """A valid-looking E.164 number of the country: its example number with new last digits."""
    ex = phonenumbers.example_number_for_type(country, kind) or phonenumbers.example_number(country)
    if ex is None:
        code = phonenumbers.country_code_for_region(country) or 1
        return f"+{code}{rng.integers(10**8, 10**9)}"
    national = str(ex.national_number)
    for _ in range(5):
        tail = "".join(str(d) for d in rng.integers(0, 10, size=min(4, len(national) - 1)))
        candidate = phonenumbers.PhoneNumber(country_code=ex.country_code,
                                             national_number=int(national[: len(national) - len(tail)] + tail))
        if phonenumbers.is_valid_number(candidate):
            return phonenumbers.format_number(candidate, phonenumbers.PhoneNumberFormat.E164)
    return phonenumbers.format_number(ex, phonenumbers.PhoneNumberFormat.E164)


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
                                country_timezone(u.country), LicenceSet.of(u.licences), u.dialout_policy,
                                _object_id(rng)))
        taken.add(u.upn.lower())
    domain = scenario.tenant.domain
    for g_idx, g in enumerate(scenario.tenant.generate):
        fake = Faker(FAKER_LOCALES.get(g.country, "en_US"))
        fake.seed_instance(seed * 1000 + g_idx)
        lic = LicenceSet.of(g.licences)
        tz = country_timezone(g.country)
        for _ in range(g.count):
            first, last = fake.first_name(), fake.last_name()
            base = f"{_ascii(first)}.{_ascii(last)}"
            upn, n = f"{base}@{domain}", 1
            while upn.lower() in taken:
                n += 1
                upn = f"{base}{n}@{domain}"
            taken.add(upn.lower())
            users.append(TenantUser(upn, f"{first} {last}", g.country, make_number(g.country, rng), tz,
                                    lic, g.dialout_policy, _object_id(rng)))
    return users
