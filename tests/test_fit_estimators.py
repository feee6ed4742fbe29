"""The fit's estimators (sim/analysis/fit/estimate.py, lengths.py): their 95 % intervals cover the
truth at the nominal rate, within binomial error, on synthetic data drawn from the model itself
(fixed seeds, N datasets each). A biased estimator fails these: the last test shows the check
catching one (ignoring the zero truncation of meetings)."""
import math

import numpy as np
import pytest

from sim.analysis.fit.estimate import meetings, poisson_rate, pooled_rate, rate_classes, share
from sim.analysis.fit.lengths import fit_lengths

N = 300


def nominal(hits) -> bool:
    """Coverage of 95 % intervals over N datasets: within 3 binomial standard deviations of 0.95."""
    rate = float(np.mean(hits))
    return abs(rate - 0.95) <= 3 * math.sqrt(0.95 * 0.05 / len(hits))


def test_poisson_rate_and_share_intervals_cover():
    rng = np.random.default_rng(10)
    rates = [poisson_rate(int(rng.poisson(2.5 * 40)), 40) for _ in range(N)]
    assert nominal([r.low <= 2.5 <= r.high for r in rates])
    shares = [share(int(rng.binomial(500, 0.07)), 500) for _ in range(N)]
    # Clopper-Pearson is conservative: at least nominal
    assert np.mean([s.low <= 0.07 <= s.high for s in shares]) >= 0.95 - 3 * math.sqrt(0.95 * 0.05 / N)


def test_pooled_rate_covers_the_mean_of_users_who_differ():
    """Users' rates drawn from a gamma (mean 2 a day, shape 2): the exact Poisson interval of the
    total covered the mean 23 % of the time (an audit: 17 %), the quasi-Poisson one at the
    nominal rate; users alike keep (about) the exact interval."""
    rng = np.random.default_rng(11)
    hits = []
    for _ in range(N):
        exposure = rng.uniform(20, 60, 60)
        counts = rng.poisson(rng.gamma(2.0, 1.0, 60) * exposure)
        est = pooled_rate(counts, exposure)
        hits.append(est.low <= 2.0 <= est.high)
    assert nominal(hits)
    # by hand: counts 10, 30, 20, 20 over 10 days each: rate 2, Pearson (100 + 100 + 0 + 0) / 20 = 10
    # over 3 df: phi 3.3333; half = t(0.975, 3) sqrt(phi / 80) = 3.182446 x 0.204124 = 0.649614:
    # 2 exp(-+0.649614) = 1.0445, 3.8296
    est = pooled_rate(np.array([10, 30, 20, 20]), np.array([10.0] * 4))
    assert est.value == 2.0 and "dispersion 3.33, t on 3 df" in est.method
    assert est.low == pytest.approx(1.0445, abs=1e-4) and est.high == pytest.approx(3.8296, abs=1e-4)
    alike = pooled_rate(np.array([20, 20]), np.array([10.0, 10.0]))
    assert (alike.low, alike.high) == (poisson_rate(40, 20).low, poisson_rate(40, 20).high)


def test_hand_worked_poisson_interval():
    # 10 calls over 5 user-days: chi2(0.025, 20)/2 = 4.7954, chi2(0.975, 22)/2 = 18.3904 (Garwood)
    r = poisson_rate(10, 5)
    assert r.value == 2.0
    assert r.low == pytest.approx(4.7954 / 5, abs=1e-4) and r.high == pytest.approx(18.3904 / 5, abs=1e-4)


def test_call_length_intervals_cover():
    rng = np.random.default_rng(11)
    hits_mean, hits_sigma, hits_exp = [], [], []
    for _ in range(N):
        x = np.maximum(1, np.rint(rng.lognormal(math.log(4.0) - 0.5, 1.0, 400) * 60)) / 60
        lf = fit_lengths(x)
        hits_mean.append(lf.mean.low <= 4.0 <= lf.mean.high)
        hits_sigma.append(lf.sigma.low <= 1.0 <= lf.sigma.high)
        y = np.maximum(1, np.rint(rng.exponential(6.0, 400) * 60)) / 60
        ef = fit_lengths(y)
        hits_exp.append(ef.spec["distribution"] == "exponential" and ef.mean.low <= 6.0 <= ef.mean.high)
    assert nominal(hits_mean) and nominal(hits_sigma) and nominal(hits_exp)


def test_a_skewed_lognormal_mean_from_few_calls_covers():
    """sigma 1.5 from 40 calls (whole seconds, as the export has them): the delta-method interval
    on the minutes' scale covered about 88 %; Cox's, on the log scale, the nominal rate:
    exp(mu + s^2/2 -+ z sqrt(s^2/n + s^4/(2(n - 1)))), s^2 the unbiased variance of the logs."""
    rng = np.random.default_rng(12)
    hits = []
    for _ in range(N):
        x = np.maximum(1, np.rint(rng.lognormal(math.log(4.0) - 1.125, 1.5, 40) * 60)) / 60
        lf = fit_lengths(x)
        hits.append(lf.spec["distribution"] != "lognormal" or lf.mean.low <= 4.0 <= lf.mean.high)
    assert nominal(hits)
    x = np.exp(rng.normal(1.0, 1.5, 200))
    lf = fit_lengths(x)
    logs = np.log(x)
    s2, n = logs.var(ddof=1), 200
    theta, se = logs.mean() + s2 / 2, math.sqrt(s2 / n + s2 ** 2 / (2 * (n - 1)))
    assert lf.mean.method == "lognormal MLE, Cox interval"
    assert lf.mean.low == pytest.approx(math.exp(theta - 1.959964 * se), rel=1e-6)
    assert lf.mean.high == pytest.approx(math.exp(theta + 1.959964 * se), rel=1e-6)


def test_empirical_chosen_when_both_families_are_rejected():
    rng = np.random.default_rng(12)
    x = np.concatenate([rng.normal(2, 0.1, 600), rng.normal(10, 0.5, 400)])
    lf = fit_lengths(x)
    assert lf.spec["distribution"] == "empirical" and len(lf.spec["quantiles"]) == 41
    assert lf.spec["quantiles"][0] == pytest.approx(x.min(), abs=1e-4)
    assert fit_lengths(x[:29]) is None                     # too few calls: no fit


def _meeting_data(rng, meetings_n=400, d=0.4, f=0.9, g=0.5):
    m = rng.poisson(meetings_n)
    x = np.stack([rng.poisson(d, m), rng.poisson(f, m), rng.poisson(g, m)], axis=1)
    return m, x[x.sum(axis=1) > 0]


def test_meeting_intervals_cover_despite_unseen_meetings():
    rng = np.random.default_rng(13)
    hits = []
    for _ in range(N):
        m, seen = _meeting_data(rng)
        est = meetings(seen.sum(axis=1))
        total = int(seen.sum())
        hits.append((est.per_kind(int(seen[:, 0].sum()), total).low <= 0.4 <= est.per_kind(int(seen[:, 0].sum()), total).high,
                     est.per_kind(int(seen[:, 2].sum()), total).low <= 0.5 <= est.per_kind(int(seen[:, 2].sum()), total).high,
                     est.rate(100.0).low <= 4.0 <= est.rate(100.0).high))
    hits = np.array(hits)
    assert all(nominal(hits[:, k]) for k in range(3))


def test_meetings_that_each_had_one_call_stay_finite():
    """Every seen meeting had one PSTN call: the zero-truncated MLE is λ -> 0 and 20 meetings
    became 2 x 10^7 (an audit). Worked by hand: the profile-likelihood bound solves
    20 log((e^λ - 1)/λ) = 3.8415 / 2, λ = 0.1891; the half-count estimate solves
    20 P(X >= 2 | X >= 1) = 0.5, λ = 0.0504, so 20 / (1 - e^-0.0504) = 406.7 meetings."""
    est = meetings(np.ones(20))
    assert est.per_meeting.low == 0.0 and est.per_meeting.high == pytest.approx(0.1891, abs=1e-4)
    assert est.per_meeting.value == pytest.approx(0.0504, abs=1e-4)
    assert est.meetings == pytest.approx(406.7, abs=0.1)
    assert math.isfinite(est.rate(30.0).high) and est.per_kind(20, 20).value == est.per_meeting.value


def test_the_coverage_check_catches_a_biased_estimator():
    """Ignoring the zero truncation (calls per *seen* meeting as the rate) overstates dial-outs."""
    rng = np.random.default_rng(14)
    hits = []
    for _ in range(N):
        _, seen = _meeting_data(rng)
        naive = poisson_rate(int(seen[:, 0].sum()), len(seen))
        hits.append(naive.low <= 0.4 <= naive.high)
    assert not nominal(hits) and np.mean(hits) < 0.5


def test_rate_classes_one_when_homogeneous_two_when_mixed():
    rng = np.random.default_rng(15)
    exposure = np.full(200, 40.0)
    one = rate_classes(rng.poisson(2.0 * exposure), exposure)
    assert len(one.rates) == 1 and one.dispersion_p >= 0.05 and "one rate" in one.why
    fast = rng.random(200) < 0.25
    two = rate_classes(rng.poisson(np.where(fast, 6.0, 1.5) * exposure), exposure)
    assert len(two.rates) == 2 and two.dispersion_p < 1e-6
    assert np.array_equal(two.labels == 1, fast)
    assert two.rates[0].low <= 1.5 <= two.rates[0].high and two.rates[1].low <= 6.0 <= two.rates[1].high
