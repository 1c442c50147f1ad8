"""Counter-based randomness: a value for any (key, index) without generating the ones before it.

The market has to answer "the price at instant t" for any t in any order, cheaply and the same
way every time; a stateful RNG cannot do that, a hash of the index can.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_S30 = np.uint64(30)
_S27 = np.uint64(27)
_S31 = np.uint64(31)
_S11 = np.uint64(11)


def key_of(*parts: object) -> int:
    """A 64-bit key for a named random stream (seed, coin, purpose...)."""
    digest = hashlib.blake2b(repr(parts).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little")


def mix(x: NDArray[np.uint64]) -> NDArray[np.uint64]:
    """splitmix64 finaliser; arrays only, so uint64 wrap-around never warns."""
    x = x + _GOLDEN
    x = (x ^ (x >> _S30)) * _M1
    x = (x ^ (x >> _S27)) * _M2
    return x ^ (x >> _S31)


def uniform(key: int, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    """Uniform floats in (0, 1), one per index."""
    raw = np.atleast_1d(np.asarray(idx)).astype(np.uint64)
    h = mix(raw ^ mix(np.array([key], dtype=np.uint64)))
    return ((h >> _S11).astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def normal(key: int, idx: NDArray[np.int64]) -> NDArray[np.float64]:
    """Standard normals via Box-Muller over two independent hash streams."""
    u1 = uniform(key, idx)
    u2 = uniform(key ^ 0x5DEECE66D, idx)
    out: NDArray[np.float64] = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return out


def unit(key: int, index: int) -> float:
    """One uniform float for a scalar index."""
    return float(uniform(key, np.array([index], dtype=np.int64))[0])
