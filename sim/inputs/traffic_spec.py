"""The scenario's `traffic:` block: synthetic traffic keys (or a replayed report)."""
from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from .spec_base import MAX_RATE, Country, Strict, WeeklyProfile, shares

# Call kinds a `call_minutes_by_kind` entry may name (models.calls.KIND_NAME).
KINDS = ("user_out", "user_in", "emergency", "toll_free_in", "conf_out", "conf_in_toll_free", "conf_in_toll")


class BusinessHours(Strict):
    start: str = Field("08:00", pattern=r"^([01]\d|2[0-3]):[0-5]\d$")
    end: str = Field("18:00", pattern=r"^([01]\d|2[0-4]):[0-5]\d$")
    weekdays_only: bool = True

    @model_validator(mode="after")
    def _order(self):
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")
        return self


class CallMinutes(Strict):
    distribution: Literal["lognormal", "exponential", "fixed", "empirical"] = "lognormal"
    mean: float = Field(4.0, gt=0, le=600)
    sigma: float = Field(1.0, ge=0, le=5)
    # empirical: minutes at probabilities 0, 1/K, ..., 1 (K+1 values, non-decreasing);
    # lengths are drawn by linear interpolation between them.
    quantiles: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _empirical(self):
        q = self.quantiles
        if self.distribution != "empirical":
            if q is not None:
                raise ValueError("quantiles: only with distribution: empirical")
            return self
        if q is None or len(q) < 2:
            raise ValueError("distribution: empirical needs `quantiles`, at least 2 values (minutes)")
        if q[0] < 0 or q[-1] > 600 or any(b < a for a, b in zip(q, q[1:])) or q[-1] <= 0:
            raise ValueError("quantiles: expected non-decreasing minutes from >= 0 to <= 600")
        return self


class Growth(Strict):
    """Traffic growth over time, compounded: a factor reached at the end of each `per`."""
    users: float = Field(1.0, gt=0, le=100)
    calls_per_user: float = Field(1.0, gt=0, le=100)
    per: Literal["horizon", "year"] = "horizon"


SYNTHETIC_KEYS = ("business_hours", "weekly_profile", "user_outbound_calls_per_day", "international_share",
                  "international_destinations", "call_minutes", "call_minutes_by_kind", "toll_free_calls_per_day",
                  "toll_free_origins", "meetings_per_organiser_per_day", "dial_outs_per_meeting",
                  "toll_free_dial_ins_per_meeting", "toll_dial_ins_per_meeting",
                  "user_inbound_calls_per_day", "emergency_calls_per_user_per_year", "growth")


class TrafficSpec(Strict):
    replay: str | list[str] | None = None
    business_hours: BusinessHours = BusinessHours()
    weekly_profile: WeeklyProfile | None = None
    user_outbound_calls_per_day: float = Field(3.0, ge=0, le=MAX_RATE)
    international_share: float = Field(0.05, ge=0, le=1)
    international_destinations: dict[Country, float] = {"GB": 0.5, "DE": 0.3, "IN": 0.2}
    call_minutes: CallMinutes = CallMinutes()
    call_minutes_by_kind: dict[Literal[KINDS], CallMinutes] = {}
    toll_free_calls_per_day: float = Field(40.0, ge=0, le=MAX_RATE)
    toll_free_origins: dict[Country, float] = {"US": 1.0}
    meetings_per_organiser_per_day: float = Field(0.5, ge=0, le=MAX_RATE)
    dial_outs_per_meeting: float = Field(0.3, ge=0, le=MAX_RATE)
    toll_free_dial_ins_per_meeting: float = Field(0.5, ge=0, le=MAX_RATE)
    toll_dial_ins_per_meeting: float = Field(0.0, ge=0, le=MAX_RATE)
    user_inbound_calls_per_day: float = Field(0.0, ge=0, le=MAX_RATE)
    emergency_calls_per_user_per_year: float = Field(0.05, ge=0, le=MAX_RATE)
    growth: Growth = Growth()

    @field_validator("international_destinations")
    @classmethod
    def _dest(cls, v):
        return shares(v, "international_destinations")

    @field_validator("toll_free_origins")
    @classmethod
    def _orig(cls, v):
        return shares(v, "toll_free_origins")

    @model_validator(mode="after")
    def _replay_alone(self):
        if isinstance(self.replay, list) and not self.replay:
            raise ValueError("replay: expected a file, a folder or a non-empty list of files")
        if self.replay is not None:
            mixed = [k for k in SYNTHETIC_KEYS if k in self.model_fields_set]
            if mixed:
                raise ValueError(f"replay cannot be combined with synthetic traffic keys ({', '.join(mixed)})")
        return self

    def minutes_of(self, kind: str) -> CallMinutes:
        return self.call_minutes_by_kind.get(kind, self.call_minutes)
