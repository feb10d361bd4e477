"""MinHash signatures and LSH band keys, vectorised with numpy.

Each of the ``num_perm`` hash functions is a multiply-shift hash
``h_i(x) = (a_i * x + b_i mod 2**64) >> 32`` over the (already well mixed) 64-bit shingle
hashes; all permutations of all shingles are one ``(shingles, num_perm)`` array operation, and
the signature is its column minimum. The constants ``a_i, b_i`` are derived from BLAKE2b of a
fixed label, not from a random generator, so signatures stay the same across processes,
machines and numpy versions (they are stored in the dedup state and must remain comparable).

A signature is a list of ``num_perm`` 32-bit ints; :func:`encode` packs it into a compact
base64 string for the state (684 characters for 128 permutations).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Sequence
from functools import lru_cache

import numpy as np
import numpy.typing as npt

from processors.stages.shingles import U64

EMPTY = 0xFFFFFFFF  # the signature value of a text with no shingle
_SHIFT = np.uint64(32)


@lru_cache(maxsize=8)
def _permutations(num_perm: int) -> tuple[U64, U64]:
    """The multiply-shift constants ``(a, b)`` of ``num_perm`` hash functions; ``a`` odd."""
    seed = hashlib.blake2b(f"newsflow-minhash-{num_perm}".encode(), digest_size=64).digest()
    stream = b""
    counter = 0
    while len(stream) < 16 * num_perm:
        stream += hashlib.blake2b(seed + counter.to_bytes(8, "little"), digest_size=64).digest()
        counter += 1
    words = np.frombuffer(stream[: 16 * num_perm], dtype="<u8").astype(np.uint64)
    a = words[:num_perm] | np.uint64(1)
    b = words[num_perm:]
    return a, b


def minhash(shingles: U64, num_perm: int = 128) -> npt.NDArray[np.uint32]:
    """The MinHash signature (``num_perm`` uint32) of a set of 64-bit shingle hashes."""
    if shingles.size == 0:
        return np.full(num_perm, EMPTY, dtype=np.uint32)
    a, b = _permutations(num_perm)
    # In-place steps: one (shingles, num_perm) buffer instead of a temporary per operation.
    hashed: U64 = np.multiply(shingles[:, None], a[None, :])
    hashed += b[None, :]
    hashed >>= _SHIFT
    sig: npt.NDArray[np.uint32] = hashed.min(axis=0).astype(np.uint32)
    return sig


def is_empty(sig: Sequence[int] | npt.NDArray[np.uint32]) -> bool:
    """True for the signature of a text without any shingle."""
    return bool(np.all(np.asarray(sig, dtype=np.uint32) == EMPTY))


def band_keys(sig: Sequence[int] | npt.NDArray[np.uint32], bands: int, rows: int) -> list[str]:
    """One bucket key per LSH band: ``<band>:<12 hex digits>`` of its ``rows`` values.

    Two signatures share a key of band ``i`` exactly when their rows of band ``i`` are equal
    (up to a 2**-48 collision), so the pair becomes a candidate.
    """
    values = np.asarray(sig, dtype=np.uint32)[: bands * rows].astype(np.uint64)
    table = values.reshape(bands, rows)
    folded = np.zeros(bands, dtype=np.uint64)
    for column in range(rows):
        folded = (folded ^ table[:, column]) * np.uint64(0x100000001B3) + np.uint64(column + 1)
    folded = folded ^ (folded >> np.uint64(29))
    digits = folded.astype(">u8").tobytes().hex()  # one C call instead of a format per band
    return [f"{band}:{digits[16 * band : 16 * band + 12]}" for band in range(bands)]


def similarity(left: npt.NDArray[np.uint32], right: npt.NDArray[np.uint32]) -> float:
    """Estimated Jaccard similarity: the share of equal signature positions."""
    return float(np.count_nonzero(left == right)) / float(left.size)


def cardinality(sig: npt.NDArray[np.uint32]) -> float:
    """Estimated number of distinct shingles behind a signature (relative error ~1/sqrt(k)).

    Each position is the minimum of ``n`` uniform 32-bit hashes, about ``2**32 / (n + 1)``.
    """
    fractions = (sig.astype(np.float64) + 1.0) / 2.0**32
    return max(1.0, (sig.size - 1) / float(fractions.sum()))


def overlap(jaccard: float, left: float, right: float) -> float:
    """Estimated overlap coefficient ``|A & B| / min(|A|, |B|)`` from the Jaccard similarity
    and the two set sizes: close to 1 when one text is contained in the other."""
    shared = jaccard * (left + right) / (1.0 + jaccard)
    return min(1.0, shared / min(left, right))


def encode(sig: Sequence[int] | npt.NDArray[np.uint32]) -> str:
    """A signature as base64 of little-endian uint32 (a JSON-safe, compact string)."""
    return base64.b64encode(np.asarray(sig, dtype="<u4").tobytes()).decode("ascii")


def decode(text: str) -> npt.NDArray[np.uint32]:
    """The signature packed by :func:`encode`."""
    return np.frombuffer(base64.b64decode(text), dtype="<u4").astype(np.uint32)
