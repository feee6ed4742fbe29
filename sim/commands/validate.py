"""`validate`: check a scenario and print what it would simulate; nothing is simulated or written."""
from __future__ import annotations

from models.calls import KIND_NAME, CallKind

from .load import load

EXIT_OK = 0


def cmd_validate(args) -> int:
    from sim.engine.world import new_pools

    scenario, world, replay = load(args.scenario, args.seed)
    pools = new_pools(world)
    warmup = f" (the first {scenario.warmup_days} simulated, not counted)" if scenario.warmup_days else ""
    print(f"scenario {scenario.name}: {scenario.start:%Y-%m-%d %H:%M}Z + {scenario.days} days{warmup}, "
          f"currency {scenario.currency}, seed {scenario.seed}")
    print(f"users: {len(world.users)}")
    for (country, licences, dialout), n in sorted(licences_as_written(scenario).items()):
        print(f"  {n:7d}  {country}  {' + '.join(licences)}" + ("" if dialout == "any" else f"  (dial-out: {dialout})"))
    inferred = len(world.users) - sum(licences_as_written(scenario).values())
    if inferred:
        lic = " + ".join(x.value for x in scenario.tenant.replay_default_licences or [])
        print(f"  {inferred:7d}  inferred from the report: {lic}")
    _warn_partial_month(scenario, world)
    _warn_not_toll_free(scenario)
    print("monthly pools (minutes):")
    for p in pools.all():
        if p.capacity:
            print(f"  {p.country:7s} {p.capability:10s} {p.scope:13s} {p.capacity // 60}")
    if replay is not None:
        for line in replay.import_report.lines():
            print(line)
        counts: dict[str, int] = {}
        for k in replay.kind.tolist():
            counts[KIND_NAME[CallKind(k)]] = counts.get(KIND_NAME[CallKind(k)], 0) + 1
        print("call attempts by kind:")
        for k, n in sorted(counts.items()):
            print(f"  {n:8d}  {k}")
    else:
        from sim.engine.traffic import expected_volume
        print("expected call attempts per replication:")
        for k, n in expected_volume(world).items():
            print(f"  {n:10.0f}  {k}")
    print(f"cost: {world.cost.describe()} (within the limits)")
    print("switches: " + ", ".join(f"{k}={_yaml(v)}" for k, v in scenario.switches.model_dump(mode="json").items()))
    print("policies:")
    for p in scenario.policies:
        bits = [p.billing, f"initial {p.model_dump(mode='json')['initial_funds']}"]
        if p.auto_recharge:
            ar = p.model_dump(mode="json")["auto_recharge"]
            bits.append(f"auto-recharge {ar['amount']} below {ar['trigger']} ({p.payment.method})")
        if p.top_ups:
            bits.append(f"{len(p.top_ups)} top-up rule(s)")
        print(f"  {p.name}: " + ", ".join(bits))
    print("ok")
    return EXIT_OK


def _warn_not_toll_free(scenario) -> None:
    """A toll_free_numbers entry whose number is, by its country's numbering plan, not toll-free
    (+1 212 ... is New York): billed as toll-free all the same, which may be a typo."""
    import phonenumbers
    from phonenumbers import PhoneNumberType
    for i, tf in enumerate(scenario.tenant.toll_free_numbers):
        kind = phonenumbers.number_type(phonenumbers.parse(tf.number, None))
        if kind not in (PhoneNumberType.TOLL_FREE, PhoneNumberType.UNKNOWN):
            print(f"warning: tenant.toll_free_numbers.{i}.number {tf.number} is not a toll-free number in its "
                  f"country's numbering plan ({_kind_name(kind)}); its calls are billed as toll-free all the same")


def _kind_name(kind) -> str:
    from phonenumbers import PhoneNumberType
    names = {v: k.lower().replace("_", " ") for k, v in vars(PhoneNumberType).items() if k.isupper()}
    return names.get(kind, str(kind))


def _warn_partial_month(scenario, world) -> None:
    """A start off the 1st of a month (00:00 UTC) makes the first month a part month."""
    from sim.engine.world import first_month_share

    part, whole = first_month_share(world.clock)
    if part == whole:
        return
    pools = ("the first month's minute pools are scaled to it (first_month_allowance: pro_rata)"
             if scenario.switches.first_month_allowance == "pro_rata" else
             "the first month still gets whole monthly minute pools (switch first_month_allowance: pro_rata "
             "scales them to the part month)")
    print(f"warning: the scenario starts {scenario.start:%Y-%m-%d %H:%M}Z, not at the start of a month: the "
          f"first month is {part / whole:.0%} of a month; {pools}; warmup_days can leave the part month out of "
          "the metrics")


def licences_as_written(scenario) -> dict[tuple, int]:
    """Users per (country, licences as the scenario lists them, dial-out policy)."""
    out: dict[tuple, int] = {}
    groups = [(u.country, u.licences, u.dialout_policy, 1) for u in scenario.tenant.users]
    groups += [(g.country, g.licences, g.dialout_policy, g.count) for g in scenario.tenant.generate]
    for country, licences, dialout, n in groups:
        key = (country, tuple(lic.value for lic in licences), dialout)
        out[key] = out.get(key, 0) + n
    return out


def _yaml(value) -> str:
    """A value as YAML writes it: true/false, none for an unset one."""
    if isinstance(value, bool):
        return str(value).lower()
    return "none" if value is None else str(value)
