"""Maximum-likelihood estimators with 95 % intervals (scipy.stats), one small function each.

- a Poisson rate: count / exposure, exact (Garwood) interval;
- a share: k / n, exact (Clopper-Pearson) interval;
- rate classes: one rate for every user unless Pearson's dispersion test rejects it (p < 0.05);
  then Poisson mixtures of 2..MAX_CLASSES rates fitted by EM, the number of classes chosen by
  BIC (the likelihood-ratio test of k vs k+1 components has no chi-square reference distribution,
  BIC is the stated criterion), each user assigned to its most probable class;
- an hour-of-week profile: calls in each local hour of the week over the hours of that kind the
  period holds (the Poisson MLE of a piecewise-constant intensity);
- meetings: only meetings with at least one PSTN call are seen, so the calls per meeting are a
  zero-truncated Poisson (MLE by root finding, Fisher-information interval) and the meeting
  rate is the seen meetings over (1 - P(no call)) x organiser exposure.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import optimize, stats

MAX_CLASSES = 4
ALPHA = 0.05


@dataclass
class Estimate:
    value: float
    low: float
    high: float
    n: int                 # the observations behind it (calls, users, meetings)
    method: str

    def comment(self, digits: int = 4) -> str:
        return f"95 % CI [{self.low:.{digits}g}, {self.high:.{digits}g}], n = {self.n}, {self.method}"


def poisson_rate(count: int, exposure: float) -> Estimate:
    if exposure <= 0:
        return Estimate(0.0, 0.0, 0.0, count, "no exposure")
    low = stats.chi2.ppf(ALPHA / 2, 2 * count) / 2 if count else 0.0
    high = stats.chi2.ppf(1 - ALPHA / 2, 2 * count + 2) / 2
    return Estimate(count / exposure, low / exposure, high / exposure, count, "Poisson MLE, exact interval")


def pooled_rate(counts: np.ndarray, exposure: np.ndarray) -> Estimate:
    """The users' common rate, sum of counts / sum of exposure, with a quasi-Poisson interval:
    users differ beyond Poisson noise (a Pearson dispersion phi > 1), so the exact Poisson
    interval of the total, which treats the calls as independent, is too narrow for the
    population's mean rate (an audit: 17 % coverage with gamma-distributed user rates). The
    interval is on the log scale, rate x exp(-+ t(k - 1) sqrt(phi / sum)): phi is estimated from
    the k users, hence Student's t (a normal quantile covered 86 % with 5 users, this 92 %)."""
    counts, exposure = np.asarray(counts, float), np.asarray(exposure, float)
    total, exp = float(counts.sum()), float(exposure.sum())
    exact = poisson_rate(int(total), exp)
    lam = total / exp if exp > 0 else 0.0
    expected = lam * exposure
    used = expected > 0
    df = int(used.sum()) - 1
    if df < 2:                           # two users say next to nothing about how users differ
        return exact
    phi = max(1.0, float((((counts - expected) ** 2)[used] / expected[used]).sum()) / df)
    half = stats.t.ppf(1 - ALPHA / 2, df) * math.sqrt(phi / total)
    # never narrower than the exact interval: no jump where the dispersion reaches 1
    return Estimate(lam, min(exact.low, lam * math.exp(-half)), max(exact.high, lam * math.exp(half)), int(total),
                    f"Poisson MLE, quasi-Poisson interval (dispersion {phi:.2f}, t on {df} df)")


def share(k: int, n: int) -> Estimate:
    if n == 0:
        return Estimate(0.0, 0.0, 1.0, 0, "no observations")
    ci = stats.binomtest(k, n).proportion_ci(confidence_level=1 - ALPHA, method="exact")
    return Estimate(k / n, ci.low, ci.high, n, "binomial MLE, Clopper-Pearson interval")


@dataclass
class RateClasses:
    labels: np.ndarray           # class of each user, 0 = the lowest rate
    rates: list[Estimate]        # per class: calls per user-day
    dispersion_p: float          # Pearson chi-square test of one common rate
    bic: dict[int, float]        # number of classes -> BIC (when a mixture was fitted)
    why: str


def _mixture(counts, exposure, k: int, iters: int = 500):
    """EM for a k-rate Poisson mixture with per-user exposure: (weights, rates, loglik, responsibilities)."""
    per = counts / exposure
    rates = np.quantile(per, (np.arange(k) + 0.5) / k) + 1e-6
    weights = np.full(k, 1 / k)
    last = -np.inf
    for _ in range(iters):
        logp = np.log(weights) + stats.poisson.logpmf(counts[:, None], rates[None, :] * exposure[:, None])
        top = logp.max(axis=1, keepdims=True)
        ll = float((top[:, 0] + np.log(np.exp(logp - top).sum(axis=1))).sum())
        resp = np.exp(logp - top)
        resp /= resp.sum(axis=1, keepdims=True)
        weights = np.maximum(resp.mean(axis=0), 1e-12)
        rates = np.maximum((resp * counts[:, None]).sum(0) / (resp * exposure[:, None]).sum(0), 1e-9)
        if ll - last < 1e-8:
            break
        last = ll
    return weights, rates, ll, resp


def rate_classes(counts: np.ndarray, exposure: np.ndarray) -> RateClasses:
    counts, exposure = np.asarray(counts, float), np.asarray(exposure, float)
    n_users = len(counts)
    if n_users == 0 or exposure.sum() <= 0:
        return RateClasses(np.zeros(n_users, int), [poisson_rate(int(counts.sum()), float(exposure.sum()))], 1.0, {},
                           "one rate: no user who can place calls")
    pooled = counts.sum() / exposure.sum()
    expected = pooled * exposure
    ok = expected > 0
    chi2 = float((((counts - expected) ** 2)[ok] / expected[ok]).sum())
    p = float(stats.chi2.sf(chi2, max(ok.sum() - 1, 1))) if pooled > 0 else 1.0
    one = RateClasses(np.zeros(n_users, int), [poisson_rate(int(counts.sum()), exposure.sum())], p, {}, "")
    if p >= ALPHA or n_users < 10:
        one.why = (f"one rate: Pearson's dispersion test does not reject a common Poisson rate "
                   f"(chi2 = {chi2:.1f} on {max(ok.sum() - 1, 1)} df, p = {p:.3g})" if n_users >= 10 else
                   f"one rate: {n_users} users are too few to split into classes")
        return one
    bic = {1: -2 * float(stats.poisson.logpmf(counts, expected).sum()) + math.log(n_users)}
    fits = {}
    for k in range(2, MAX_CLASSES + 1):
        w, r, ll, resp = _mixture(counts, exposure, k)
        bic[k] = -2 * ll + (2 * k - 1) * math.log(n_users)
        fits[k] = (r, resp)
    best = min(bic, key=bic.get)
    if best == 1:
        one.bic, one.why = bic, f"one rate: overdispersed (p = {p:.3g}) but no mixture lowers BIC"
        return one
    r, resp = fits[best]
    order = np.argsort(r)
    labels = np.argsort(order)[resp.argmax(axis=1)]
    used = sorted(set(labels.tolist()))
    labels = np.searchsorted(used, labels)            # drop classes no user was assigned to
    classes = [poisson_rate(int(counts[labels == c].sum()), float(exposure[labels == c].sum())) for c in range(len(used))]
    why = (f"{len(used)} rate classes: Pearson's dispersion test rejects one common rate (chi2 = {chi2:.1f} on "
           f"{ok.sum() - 1} df, p = {p:.3g}); Poisson mixtures of 1-{MAX_CLASSES} rates by EM, "
           f"BIC lowest at {best} (" + ", ".join(f"k={k}: {v:.1f}" for k, v in bic.items()) + ")")
    return RateClasses(labels, classes, p, bic, why)


def hour_of_week_exposure(start_ts: float, horizon: int, tz: str) -> np.ndarray:
    """Hours (real seconds / 3600) of each local hour of the week inside [start, start + horizon)."""
    from datetime import datetime, timezone
    from sim.engine.profiles import _at, _local_days
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    start = datetime.fromtimestamp(start_ts, timezone.utc)
    out = np.zeros(168)
    for d in _local_days(start, horizon, zone):
        edges = np.array([_at(d, h, 0, zone) for h in range(25)])
        a = np.clip(edges[:-1] - start_ts, 0, horizon)
        b = np.clip(edges[1:] - start_ts, 0, horizon)
        out[d.weekday() * 24: d.weekday() * 24 + 24] += (b - a) / 3600
    return out


def local_hour_of_week(t: np.ndarray, start_ts: float, tz: str) -> np.ndarray:
    """Hour of the week (Monday 00:00 local = 0) of each instant `t` (seconds since start_ts)."""
    from datetime import datetime, timezone
    from zoneinfo import ZoneInfo

    zone = ZoneInfo(tz)
    hours = np.arange(int(t.max()) // 3600 + 1) if len(t) else np.zeros(0, int)
    offset = np.array([datetime.fromtimestamp(start_ts + 3600 * h, timezone.utc).astimezone(zone).utcoffset()
                       .total_seconds() for h in hours])
    local = start_ts + t + offset[t // 3600]
    weekday = (np.floor(local / 86400).astype(np.int64) + 3) % 7          # 1970-01-01 was a Thursday
    return weekday * 24 + (np.floor(local / 3600).astype(np.int64) % 24)


def profile(how: np.ndarray, exposure_hours: np.ndarray) -> np.ndarray:
    """Intensity per local hour of the week: calls in that hour / hours of it observed (0 if never observed)."""
    counts = np.bincount(how, minlength=168).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(exposure_hours > 0, counts / exposure_hours, 0.0)


@dataclass
class Meetings:
    per_meeting: Estimate        # PSTN calls per meeting (zero-truncated Poisson)
    meetings: float              # estimated meetings, seen and unseen
    seen: int
    se: float                    # standard error of the calls per meeting

    def per_kind(self, k: int, total: int) -> Estimate:
        """Calls of one kind per meeting: lambda x its share of the calls; delta-method interval
        (the share is multinomial given the totals, independent of lambda's estimate)."""
        lam, p = self.per_meeting.value, k / total
        value = lam * p
        rel = math.sqrt((self.se / lam) ** 2 + ((1 - p) / (p * total) if p > 0 else math.inf))
        z = stats.norm.ppf(1 - ALPHA / 2)
        return Estimate(value, max(value * (1 - z * rel), 0.0), value * (1 + z * rel), k,
                        "zero-truncated Poisson x multinomial share, delta-method interval")

    def rate(self, exposure: float) -> Estimate:
        """Meetings per organiser-day: seen / P(at least one call) / exposure; delta-method interval."""
        lam = self.per_meeting.value
        q = -math.expm1(-lam)
        value = self.seen / q / exposure
        rel = math.sqrt(1 / self.seen + (math.exp(-lam) * self.se / q) ** 2)
        z = stats.norm.ppf(1 - ALPHA / 2)
        return Estimate(value, max(value * (1 - z * rel), 0.0), value * (1 + z * rel), self.seen,
                        "seen meetings / P(at least one PSTN call), delta-method interval")


def meetings(calls_per_seen_meeting: np.ndarray) -> Meetings | None:
    x = np.asarray(calls_per_seen_meeting, float)
    n = len(x)
    if n == 0:
        return None
    mean = x.mean()
    if mean <= 1.0:
        return _single_call_meetings(n)
    lam = optimize.brentq(lambda l: l / -math.expm1(-l) - mean, 1e-9, mean + 10)
    q = -math.expm1(-lam)                        # P(at least one call)
    info = 1 / (lam * q) - math.exp(-lam) / q ** 2
    se = 1 / math.sqrt(n * info) if info > 0 else float("inf")
    est = Estimate(lam, max(lam - 1.96 * se, 0.0), lam + 1.96 * se, n,
                   "zero-truncated Poisson MLE, Fisher-information interval")
    return Meetings(est, n / q, n, se)


def _single_call_meetings(n: int) -> Meetings:
    """Every seen meeting had one PSTN call: the likelihood grows as λ -> 0, where the meetings
    it implies (seen / P(a call)) grow without bound (20 such meetings gave 2 x 10^7). The
    estimate is instead the λ at which half a meeting with two calls would be expected among
    the n seen (the usual half-count for a category never observed, about 1/n), and the
    interval [0, the profile-likelihood bound]: n log((e^λ - 1)/λ) = χ²₁(0.95) / 2."""
    def multi(lam: float) -> float:              # P(two or more calls | at least one)
        return 1 - lam * math.exp(-lam) / -math.expm1(-lam)
    lam = optimize.brentq(lambda l: n * multi(l) - 0.5, 1e-12, 50.0)
    chi2 = stats.chi2.ppf(1 - ALPHA, 1)
    high = optimize.brentq(lambda l: n * math.log(math.expm1(l) / l) - chi2 / 2, 1e-12, 50.0)
    est = Estimate(lam, 0.0, high, n, "zero-truncated Poisson at the boundary (every seen meeting had one call): "
                                      "half-count estimate, profile-likelihood interval")
    return Meetings(est, n / -math.expm1(-lam), n, (high - lam) / stats.norm.ppf(1 - ALPHA / 2))
