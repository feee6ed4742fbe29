"""The scenario's `sweep:` block (issue 11): a base policy and a grid of policy fields; every
combination of the grid's values is a candidate policy, validated like the scenario's own."""
from __future__ import annotations

import copy
import itertools
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sim.errors import InputError

MAX_CANDIDATES = 10_000
MAX_VALUE = 10**12           # 1e999999 overflowed Decimal arithmetic (exit 1)


class RangeSpec(BaseModel):
    """`{from: 50, to: 500, step: 50}`: from, from + step, ... up to and including `to`."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    start: Decimal = Field(alias="from")
    to: Decimal
    step: Decimal = Field(gt=0)

    @model_validator(mode="after")
    def _order(self):
        if not all(x.is_finite() and abs(x) < MAX_VALUE for x in (self.start, self.to, self.step)):
            raise ValueError(f"from, to and step must be finite numbers below {MAX_VALUE:,}")
        if self.to < self.start:
            raise ValueError(f"`to` ({self.to}) must not be below `from` ({self.start})")
        if (self.to - self.start) / self.step >= MAX_CANDIDATES:
            raise ValueError(f"more than {MAX_CANDIDATES:,} values: use a larger step")
        return self

    def values(self) -> list[Decimal]:
        n = int((self.to - self.start) // self.step)
        return [self.start + k * self.step for k in range(n + 1)]


class SweepSpec(BaseModel):
    """The block as written; its grid is checked value by value by `grid_values`, which names the key."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    base: str
    grid: dict[str, Any]


def grid_values(spec: SweepSpec, where: str = "sweep") -> dict[str, list]:
    """{field: its values}: a list as given, or a {from, to, step} range expanded."""
    if not spec.grid:
        raise InputError(f"{where}.grid", "expected at least one policy field with its values, "
                                          "like `auto_recharge.trigger: [25, 50, 100]`")
    out = {}
    for key, values in spec.grid.items():
        if isinstance(values, dict):
            try:
                out[key] = RangeSpec.model_validate(values).values()
            except ValidationError as e:
                from .yamlfile import describe_validation_error
                sub, msg = describe_validation_error(e)
                raise InputError(f"{where}.grid.{key}", f"{msg} (expected {{from:, to:, step:}} with step > 0)"
                                 if sub == "(top level)" else f"{sub}: {msg}") from None
        elif isinstance(values, list) and values:
            out[key] = list(values)
        else:
            raise InputError(f"{where}.grid.{key}", f"expected a non-empty list of values or {{from:, to:, step:}}, "
                                                    f"got {values!r}")
    return out


def _set(doc: dict, path: list[str], value, model, where: str) -> None:
    """Set doc[path] = value, checking every step against the policy schema (`model`)."""
    from .scenario import PolicySpec
    for i, part in enumerate(path):
        fields = model.model_fields if model is not None else {}
        if part not in fields:
            known = ", ".join(sorted(fields)) or "none"
            raise InputError(where, f"unknown policy field {'.'.join(path[:i + 1])!r} "
                                    f"(the fields there are: {known})")
        if part == "name" and model is PolicySpec:
            raise InputError(where, "a candidate's name is given by the sweep; sweep another field")
        if i == len(path) - 1:
            doc[part] = value
            return
        sub = fields[part].annotation
        sub = next((a for a in getattr(sub, "__args__", (sub,)) if isinstance(a, type) and issubclass(a, BaseModel)),
                   None)
        if sub is None:
            raise InputError(where, f"{'.'.join(path[:i + 1])!r} has no fields to sweep")
        if not isinstance(doc.get(part), dict):
            doc[part] = {}
        doc, model = doc[part], sub


def candidates(scenario, path) -> list[tuple[str, dict, object]]:
    """[(name, {field: value}, PolicySpec)] for every combination of the grid, in grid order
    (the last field varies fastest). Bad input names `sweep.grid.FIELD`."""
    from .scenario import PolicySpec
    from .yamlfile import describe_validation_error
    spec = scenario.sweep
    if spec is None:
        raise InputError(f"{path}: sweep", "this command needs a `sweep:` block (a `base:` policy and a `grid:` "
                                           "of policy fields; see README, Choosing a policy)")
    bases = {p.name: p for p in scenario.policies}
    if spec.base not in bases:
        raise InputError(f"{path}: sweep.base", f"expected the name of one of the scenario's policies "
                                                f"({', '.join(bases)}), got {spec.base!r}")
    base = bases[spec.base].model_dump(mode="json")
    grid = grid_values(spec, f"{path}: sweep")
    n = 1
    for values in grid.values():
        n *= len(values)
    if n > MAX_CANDIDATES:
        raise InputError(f"{path}: sweep.grid", f"{n:,} candidates; at most {MAX_CANDIDATES:,}: sweep fewer values")
    minimum = scenario.switches.minimum_purchase
    width = len(str(n))
    out = []
    seen: dict[str, tuple] = {}             # each candidate's policy (less its name) -> its values
    for k, position in enumerate(itertools.product(*(range(len(v)) for v in grid.values()))):
        combo = tuple(values[i] for values, i in zip(grid.values(), position))
        doc = copy.deepcopy(base) | {"name": f"{spec.base}-{k + 1:0{width}d}"}
        for key, value in zip(grid, combo):
            _set(doc, key.split("."), value, PolicySpec, f"{path}: sweep.grid.{key}")
        try:
            policy = PolicySpec.model_validate(doc)
        except ValidationError as e:
            key, msg = describe_validation_error(e)
            raise InputError(f"{path}: sweep.grid", f"candidate {dict(zip(grid, map(str, combo)))} is not a valid "
                                                    f"policy: {key}: {msg}") from None
        if problem := policy.funds_problem(scenario.start, scenario.days):
            raise InputError(f"{path}: sweep.grid", f"candidate {dict(zip(grid, map(str, combo)))}: {problem}")
        if low := policy.below_minimum(minimum):
            key, why = low
            raise InputError(f"{path}: sweep.grid.{key}" if key in grid else f"{path}: sweep.base", f"{why} ({key})")
        twin = seen.setdefault(policy.model_dump_json(exclude={"name"}), position)
        if twin is not position:            # a value listed twice (20 and 20.00 alike) would run twice
            key, a, b = next((g, a, b) for g, a, b in zip(grid, twin, position) if a != b)
            raise InputError(f"{path}: sweep.grid.{key}", f"values {a + 1} and {b + 1} ({grid[key][a]} and "
                                                          f"{grid[key][b]}) make the same policy: list each value once")
        out.append((doc["name"], dict(zip(grid, combo)), policy))
    return out

