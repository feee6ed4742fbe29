"""`validate`: check a scenario and print what it would simulate; nothing is simulated or written."""
from __future__ import annotations

from models.calls import KIND_NAME, CallKind

from .load import load

EXIT_OK = 0


def cmd_validate(args) -> int:
    from sim.engine.world import new_pools, user_mix

    scenario, world, replay = load(args.scenario, args.seed)
    pools = new_pools(world)
    print(f"scenario {scenario.name}: {scenario.start:%Y-%m-%d %H:%M}Z + {scenario.days} days, "
          f"currency {scenario.currency}, seed {scenario.seed}")
    print(f"users: {len(world.users)}")
    for mix, n in sorted(user_mix(world).items()):
        print(f"  {n:6d}  {mix}")
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
    print("switches: " + ", ".join(f"{k}={v}" for k, v in scenario.switches.model_dump(mode="json").items()))
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
