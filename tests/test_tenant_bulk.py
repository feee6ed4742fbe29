"""Generated groups (README, `generate:`): a large group is drawn in bulk, still reproducible from
the seed, with unique UPNs and valid numbers of its country."""
import phonenumbers

from sim.inputs.scenario import Scenario
from sim.inputs.tenant import NAME_POOL, build_users


def scenario(count: int, country="DE"):
    return Scenario.model_validate({
        "name": "bulk", "start": "2026-01-01T00:00:00Z", "days": 1,
        "tenant": {"users": [{"upn": "anna.schmidt@contoso.com", "country": "DE", "licences": ["PHONE_SYSTEM"]}],
                   "generate": [{"count": count, "country": country, "licences": ["PHONE_SYSTEM"]}]},
        "policies": [{"name": "p"}]})


def test_a_large_group_is_reproducible_unique_and_valid():
    sc = scenario(3 * NAME_POOL)
    users = build_users(sc, 7)
    assert len(users) == 3 * NAME_POOL + 1
    assert len({u.upn.lower() for u in users}) == len(users)
    assert len({u.object_id for u in users}) == len(users)
    for u in users[1:200]:
        n = phonenumbers.parse(u.number)
        assert phonenumbers.is_valid_number(n) and phonenumbers.region_code_for_number(n) == "DE", u.number
        assert u.upn.split("@")[0].startswith(u.upn.split("@")[0].rstrip("0123456789"))
    again = build_users(sc, 7)
    assert [(u.upn, u.display_name, u.number, u.object_id) for u in again] == \
        [(u.upn, u.display_name, u.number, u.object_id) for u in users]
    other = build_users(sc, 8)
    assert [u.upn for u in other] != [u.upn for u in users]


def test_a_small_group_draws_each_user_from_faker():
    """Up to NAME_POOL users: Faker's next names one by one (as before the bulk path existed)."""
    from faker import Faker
    fake = Faker("de_DE")
    fake.seed_instance(7 * 1000 + 0)
    users = build_users(scenario(5), 7)[1:]
    assert [u.display_name for u in users] == [f"{fake.first_name()} {fake.last_name()}" for _ in range(5)]
