"""Process-independent randomness: every draw is keyed by a string, never by Python's salted hash()."""

from __future__ import annotations

import hashlib
import math
import random

_SEP = "\x1f"


def stable_seed(*parts: object) -> int:
    """A 64-bit integer that depends only on the parts' string forms."""
    digest = hashlib.sha256(_SEP.join(str(p) for p in parts).encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def stable_rng(*parts: object) -> random.Random:
    """A `random.Random` seeded from the parts (same parts -> same sequence, in any process)."""
    return random.Random(stable_seed(*parts))


def stable_unit(*parts: object) -> float:
    """A float in [0, 1) that depends only on the parts."""
    return stable_seed(*parts) / 2.0**64


def numeric_id(prefix: str, digits: int, *parts: object) -> str:
    """A Meta-style numeric id string of `digits` digits starting with `prefix`."""
    free = digits - len(prefix)
    return prefix + str(stable_seed(*parts) % 10**free).zfill(free)


def poisson(rng: random.Random, lam: float) -> int:
    """Poisson draw; exact (Knuth) for small means, normal approximation above 30."""
    if lam <= 0:
        return 0
    if lam < 30:
        limit = math.exp(-lam)
        k, p = 0, rng.random()
        while p > limit:
            k += 1
            p *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def binomial(rng: random.Random, n: int, p: float) -> int:
    """Binomial draw; exact for n <= 40, normal approximation above (clamped to [0, n])."""
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if n <= 40:
        return sum(1 for _ in range(n) if rng.random() < p)
    mean = n * p
    return min(n, max(0, round(rng.gauss(mean, math.sqrt(mean * (1 - p))))))
