"""One-dimensional searches over integer steps (qualities, or indices into a list of them),
for the archive's quality targets (:mod:`.target`)."""

from __future__ import annotations

from collections.abc import Callable


def lowest(ok: Callable[[int], bool], lo: int, hi: int) -> int | None:
    """Lowest q in [lo, hi] with ``ok(q)``, assuming ``ok`` is monotone; None if not ``ok(hi)``."""
    if lo > hi or not ok(hi):
        return None
    while lo < hi:
        mid = (lo + hi) // 2
        if ok(mid):
            hi = mid
        else:
            lo = mid + 1
    return hi


def highest(ok: Callable[[int], bool], lo: int, hi: int) -> int | None:
    """Highest q in [lo, hi] with ``ok(q)``, assuming ``ok`` is true up to a point."""
    if lo > hi or not ok(lo):
        return None
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if ok(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo


def lowest_smooth(
    f: Callable[[int], float], floor: float, lo: int, hi: int, x: Callable[[int], float]
) -> int | None:
    """Lowest q in [lo, hi] with ``f(q) ≥ floor`` for an increasing ``f`` that is smooth in
    ``x(q)`` (quality against log-bytes): false position in ``x``, each guess checked with its
    neighbour, so a good guess costs two evaluations instead of a bisection's seven."""
    if lo > hi or f(hi) < floor:
        return None
    if f(lo) >= floor:
        return lo
    while hi - lo > 1:  # f(lo) < floor ≤ f(hi)
        t = (floor - f(lo)) / max(f(hi) - f(lo), 1e-9)
        want = x(lo) + t * (x(hi) - x(lo))
        q = lowest(lambda q, want=want: x(q) >= want, lo + 1, hi - 1) or hi - 1
        if f(q) >= floor:
            hi = q
            if f(q - 1) < floor:
                return q
            hi = q - 1
        else:
            lo = q
            if f(q + 1) >= floor:
                return q + 1
            lo = q + 1
    return hi


__all__ = ["highest", "lowest", "lowest_smooth"]
