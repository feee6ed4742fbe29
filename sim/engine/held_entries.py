"""What a flush of held increments is logged as (sim/engine/ledger_log.py): entries (instant,
attempt number, amount) made from its segments (a call's `count` increments from instant `first`,
`inc` apart, each `price`, the first with `fee`; a flush logs each call once): one per increment,
one per segment, or one per segment on each side of the increment that empties a lot. The
per-call journal sums a call's entries per lot whatever their number (call_journal.py)."""
from __future__ import annotations

import numpy as np

from .prepass import expanded

SPAN = 1 << 31            # event keys instant * SPAN + priority + 15: priorities (attempt numbers,
                          # account events from -4) below 2**31 - 15, instants below 2**32


def entries(instants: np.ndarray, attempts: np.ndarray, amounts: np.ndarray) -> list[np.ndarray]:
    """The entries that debit something (a zero debit journals nothing)."""
    some = amounts > 0
    return [instants[some], attempts[some], amounts[some]]


def increments(first, count, attempts, price, fee, inc: int) -> list[np.ndarray]:
    """Segments as one entry per increment (instant, attempt, amount)."""
    rep, k = expanded(count)
    return entries(first[rep] + k * inc, attempts[rep], price[rep] + np.where(k == 0, fee[rep], 0))


def split(segments: list[np.ndarray], other: np.ndarray, money: int, inc: int) -> list[np.ndarray]:
    """Entries per segment on each side of the increment that empties the lot paying at the
    last flush, `money` after it in event order (with the other debits since then), that one
    kept whole: the replay splits it between the two lots. `other`: the other debits since
    then as rows (key, amount). Found per segment in closed form: the instant by which
    `money` is reached (a binary search), then that instant's increments in key order."""
    other_t, other_amount = other[:, 0] // SPAN, other[:, 1]
    # segments by first instant, with their money summed in that order: one that starts more
    # than the longest segment's span (`reach`) before an instant is all before it
    by_first = np.argsort(segments[0], kind="stable")
    first, count, attempts, price, fee = (x[by_first] for x in segments)
    money_of = count * price + fee
    whole = np.concatenate([[0], np.cumsum(money_of)])
    span = (count - 1) * inc
    reach = int(span.max())
    by_t = np.argsort(other_t, kind="stable")
    o_t, o_whole = other_t[by_t], np.concatenate([[0], np.cumsum(other_amount[by_t])])

    def drawn_before(t: int) -> int:
        """Money of the increments and debits at instants before t."""
        i, j = int(np.searchsorted(first, t, "left")), int(np.searchsorted(first, t - reach, "left"))
        n = np.minimum((t - 1 - first[j:i]) // inc + 1, count[j:i])     # increments at first + k * inc < t
        return int(whole[j] + np.dot(n, price[j:i]) + fee[j:i].sum() + o_whole[np.searchsorted(o_t, t, "left")])

    lo = int(min(first[0], other_t.min(initial=first[0])))
    hi = int(max((first + span).max(), other_t.max(initial=lo)))
    # bounds from whole segments, to search fewer instants: before the one whose money, with
    # all the other debits, reaches `money` starts, it is not reached; `reach` after the one
    # whose money alone reaches it starts, it is
    c, c2 = (int(np.searchsorted(whole, x, "left")) for x in (money - int(o_whole[-1]), money))
    lo = max(lo, int(first[c - 1])) if c > 0 else lo
    hi = min(hi, int(first[c2 - 1]) + reach) if 0 < c2 < len(whole) else hi
    while lo < hi:                                          # the instant by which money is reached
        mid = (lo + hi) // 2
        if drawn_before(mid + 1) >= money:
            hi = mid
        else:
            lo = mid + 1
    t = lo
    assert drawn_before(t + 1) >= money, "these debits do not reach the money"
    # only segments starting within `reach` before t may run on both sides of it
    j, i = int(np.searchsorted(first, t - reach, "left")), int(np.searchsorted(first, t, "right"))
    f, c, a, p, e = first[j:i], count[j:i], attempts[j:i], price[j:i], fee[j:i]
    k = (t - f) // inc
    here = ((t - f) % inc == 0) & (k < c)                   # a segment's increment at t
    at_t = other_t == t
    keys = np.concatenate([t * SPAN + a[here] + 15, other[at_t, 0]])
    amounts = np.concatenate([(p + np.where(k == 0, e, 0))[here], other_amount[at_t]])
    order = np.argsort(keys)
    keys, amounts = keys[order][amounts[order] > 0], amounts[order][amounts[order] > 0]
    cut = int(keys[np.searchsorted(np.cumsum(amounts), money - drawn_before(t), "left")])
    key_here = t * SPAN + a + 15
    is_cut = here & (key_here == cut)
    n_before = np.minimum(-((f - t) // inc), c) + (here & (key_here < cut))
    n_after = c - n_before - is_cut
    before_fee, cut_fee = np.where(n_before > 0, e, 0), np.where((n_before == 0) & is_cut, e, 0)
    after_fee = e - before_fee - cut_fee
    # before the cut (segments wholly before it, then the window's), the cut, after it (the
    # window's, then segments wholly after it): joined once, each column
    return entries(*(np.concatenate(parts) for parts in zip(
        (first[:j], attempts[:j], money_of[:j]), (f, a, n_before * p + before_fee),
        (np.full(int(is_cut.sum()), t), a[is_cut], (p + cut_fee)[is_cut]),
        (f + (n_before + is_cut) * inc, a, n_after * p + after_fee), (first[i:], attempts[i:], money_of[i:]))))
