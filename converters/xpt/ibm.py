"""IEEE 754 double -> IBM System/370 double (SAS XPORT v5 numeric), vectorised with numpy.

IBM double: 1 sign bit, 7-bit excess-64 base-16 exponent, 56-bit fraction 0.F with a non-zero
leading hex digit. An IEEE double has a 53-bit significand, which always fits into 56 bits after
the 0-3 bit shift that aligns the binary exponent to a hex boundary, so every IEEE value inside
the IBM exponent range converts exactly (no rounding is ever needed).
"""
from __future__ import annotations

import numpy as np

MISSING = 0x2E  # "." : ordinary SAS numeric missing (TS-140: first byte, seven zero bytes)
SPECIAL_MISSING = {".": 0x2E, "._": 0x5F, **{f".{c}": ord(c) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}}

# Largest and smallest IEEE magnitudes inside the IBM range (IBM max is (1 - 16**-14) * 16**63,
# IBM min normalised is 16**-65); anything beyond is an error, never silently clipped or flushed.
IBM_MAX = float.fromhex("0x1.fffffffffffffp251")
IBM_MIN = 16.0**-65

_FRAC = np.uint64((1 << 52) - 1)
_HIDDEN = np.uint64(1 << 52)


CHUNK = 65536  # elements per pass: temporaries stay in cache, ~10x faster than whole-column passes


def ieee_to_ibm(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Return (codes, out_of_range).

    codes: uint64 IBM bit patterns (host order; byte-swap to big-endian when writing). NaN becomes
    the SAS missing value "."; +/-0.0 become all-zero bytes as SAS writes them.
    out_of_range: bool mask of finite non-zero values whose magnitude IBM cannot hold, and of
    infinities; their codes are meaningless and the caller must report them.
    """
    x = np.ascontiguousarray(values, dtype=np.float64)
    codes = np.empty(len(x), np.uint64)
    bad = np.empty(len(x), bool)
    for start in range(0, len(x), CHUNK):
        part = slice(start, start + CHUNK)
        codes[part], bad[part] = _convert(x[part])
    return codes, bad


def _convert(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    bits = x.view(np.uint64)
    sign = bits >> np.uint64(63)
    exp = ((bits >> np.uint64(52)) & np.uint64(0x7FF)).astype(np.int64)
    mant = (bits & _FRAC) | _HIDDEN
    # value = mant * 2**(exp-1075) = F * 16**(E-64) * 2**-56 with F = mant << shift
    t = exp - 1019
    shift = t & 3
    ibm_exp = ((t - shift) >> 2) + 64
    frac = mant << shift.astype(np.uint64)

    nan = np.isnan(x)
    zero = x == 0.0
    bad = ~nan & ~zero & ((ibm_exp < 0) | (ibm_exp > 127) | (exp == 0) | (exp == 0x7FF))
    ok_exp = np.clip(ibm_exp, 0, 127).astype(np.uint64)
    codes = (sign << np.uint64(63)) | (ok_exp << np.uint64(56)) | frac
    codes[zero] = 0
    codes[nan] = np.uint64(MISSING << 56)
    codes[bad] = 0
    return codes, bad


def missing_code(letter_code: int) -> np.uint64:
    """IBM pattern of a (special) missing value: the code byte followed by seven zero bytes."""
    return np.uint64(letter_code << 56)


def to_big_endian_bytes(codes: np.ndarray) -> np.ndarray:
    """(n,) uint64 -> (n, 8) uint8 matrix in file (big-endian) byte order."""
    return np.ascontiguousarray(codes, dtype=">u8").view(np.uint8).reshape(-1, 8)
