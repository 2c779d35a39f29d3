"""Answers in their natural forms → the engine's int8 matrix.

Accepted: like/dislike, მომწონს/არ მომწონს, 1/0 (binary); the integers of the
range (ordinal); L3…L1 / R1…R3 or −3…−1 / 1…3 (paired). A blank, NaN or an
explicit 'skip' is a skipped item (``MISSING``), never a default value.
Anything else is rejected with the row, the item and the value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ._errors import BadAnswer, ResponseValidationError, ScoringError
from ._spec import MISSING, InstrumentSpec

SKIP_WORDS = ("", "na", "n/a", "nan", "none", "-", "skip", "skipped", "გამოტოვება", "გამოტოვებული")
_MAX_REPORTED = 200


def answer_lookup(spec: InstrumentSpec) -> dict[str, int]:
    """Every accepted spelling (lower-case, stripped) → code; skip words and the instrument's
    declared missing-value codes (``spec.missing_codes``) → MISSING."""
    table: dict[str, int] = {w: int(MISSING) for w in SKIP_WORDS}
    for v in spec.valid_values:
        table[str(v)] = v
        table[f"{v}.0"] = v
        if v > 0:
            table[f"+{v}"] = v
    if spec.kind == "binary":
        table.update({"like": 1, "dislike": 0, "მომწონს": 1, "არ მომწონს": 0})
        table.update({"true": 1, "false": 0, "yes": 1, "no": 0, "კი": 1, "არა": 0})
    if spec.kind == "paired":
        for r in range(1, spec.max + 1):
            table[f"l{r}"] = -r
            table[f"r{r}"] = r
    for code in spec.missing_codes:
        for key in (code, f"{code}.0") if code.lstrip("+-").isdigit() else (code,):
            if table.get(key, int(MISSING)) != int(MISSING):
                raise ScoringError(f"{spec.ref}: missing-value code {code!r} is a valid answer ({table[key]})")
            table[key] = int(MISSING)
    return table


def _expected(spec: InstrumentSpec) -> str:
    if spec.kind == "binary":
        return "like/dislike (მომწონს/არ მომწონს) or 1/0"
    if spec.kind == "paired":
        return f"L{spec.max}…L1 or R1…R{spec.max} (or −{spec.max}…−1, 1…{spec.max})"
    return f"a whole number from {spec.min} to {spec.max}"


def parse_responses(spec: InstrumentSpec, frame: pd.DataFrame, ids: Sequence[object] | None = None) -> np.ndarray:
    """Convert the item columns of ``frame`` to an int8 matrix (rows × items).

    Raises ``ResponseValidationError`` listing every rejected cell (row numbers
    are 1-based data rows) and every missing item column; nothing is returned
    half-parsed.
    """
    problems: list[BadAnswer] = []
    total = 0
    missing_cols = [i for i in spec.item_ids if i not in frame.columns]
    for col in missing_cols:
        problems.append(BadAnswer(0, None, col, None, "column is missing from the file"))
        total += 1
    if missing_cols:
        raise ResponseValidationError(problems, total)

    return parse_block(spec, frame[list(spec.item_ids)].to_numpy(dtype=object), ids)


def parse_block(spec: InstrumentSpec, block: np.ndarray, ids: Sequence[object] | None = None) -> np.ndarray:
    """``parse_responses`` for an object array (rows × items, in the spec's item order)."""
    problems: list[BadAnswer] = []
    # Each distinct cell value is interpreted once (pd.factorize hashes the whole
    # block in C), so a big file costs one pass and a one-row request stays cheap.
    codes, uniques = pd.factorize(block.ravel(), use_na_sentinel=True)
    lookup = answer_lookup(spec)
    table = np.array([lookup.get(_key(u), _BAD) for u in uniques] + [int(MISSING)], dtype=np.int16)
    out16 = table[codes].reshape(block.shape)  # code −1 (NaN/None) picks the final MISSING
    bad = out16 == _BAD
    total = int(bad.sum())
    if total:
        for r, j in np.argwhere(bad)[:_MAX_REPORTED]:
            who = None if ids is None else str(ids[r])
            problems.append(
                BadAnswer(
                    int(r) + 1,
                    who,
                    spec.item_ids[j],
                    block[r, j],
                    f"is not an accepted answer; expected {_expected(spec)} or blank to skip",
                )
            )
        raise ResponseValidationError(problems, total)
    return np.asarray(out16.astype(np.int8))


_BAD = -1000


def _key(value: object) -> str:
    """The lookup spelling of one cell: stripped, lower-case; 3.0 → '3.0', True → 'true'."""
    if isinstance(value, float) and np.isnan(value):
        return ""
    return str(value).strip().lower()


def _reject(spec: InstrumentSpec, arr: np.ndarray, bad: np.ndarray, reason: str) -> None:
    if bad.any():
        where = np.argwhere(bad)
        problems = [
            BadAnswer(int(r) + 1, None, spec.item_ids[c], arr[r, c].item(), reason) for r, c in where[:_MAX_REPORTED]
        ]
        raise ResponseValidationError(problems, len(where))


def codes_valid(spec: InstrumentSpec, codes: np.ndarray) -> bool:
    """Whether every code of an int8 matrix is a valid answer or ``MISSING``: three reductions.

    ``codes − 1`` wraps ``MISSING`` (−128) round to 127, so its minimum + 1 is the smallest
    answered code (the check is split into chunks so the temporary stays small).
    """
    flat = np.ascontiguousarray(codes).reshape(-1)
    step = 1 << 20
    for s in range(0, flat.size, step):
        chunk = flat[s : s + step]
        if spec.kind == "paired":
            chunk = np.abs(chunk)  # |MISSING| wraps to MISSING
            lo, hi = 1, spec.max
        else:
            lo, hi = spec.min, spec.max
        if int(chunk.max()) > hi:
            return False
        shifted = np.subtract(chunk, np.int8(1))
        if int(shifted.min()) + 1 < lo:
            return False
    return True


def as_codes(spec: InstrumentSpec, x: np.ndarray, *, check: bool = True) -> np.ndarray:
    """Validate a numeric matrix (NaN, or ``MISSING`` in int8, = skipped) and return int8 codes.

    ``check=False`` (int8 input only) skips the value check, for a caller that runs
    ``codes_valid`` itself and calls ``as_codes`` again to report what failed."""
    arr = np.asarray(x)
    if arr.ndim != 2:
        raise ScoringError(f"responses must be a 2-D array (rows × items), got {arr.ndim}-D")
    if arr.shape[1] != len(spec.items):
        raise ScoringError(f"{spec.ref} has {len(spec.items)} items but the responses have {arr.shape[1]} columns")
    expected = f"is not an accepted answer; expected {_expected(spec)}"
    if arr.dtype == np.int8:
        codes = arr
        if not check:
            return np.ascontiguousarray(codes)
    elif np.issubdtype(arr.dtype, np.floating):
        miss = np.isnan(arr)
        filled = np.where(miss, 0.0, arr)
        _reject(spec, arr, ~miss & ((filled != np.round(filled)) | (np.abs(filled) > 127)), expected)
        codes = np.where(miss, MISSING, filled).astype(np.int8)
    elif np.issubdtype(arr.dtype, np.integer):
        miss = arr == MISSING
        _reject(spec, arr, ~miss & (np.abs(arr) > 127), expected)
        codes = arr.astype(np.int8)
    else:
        raise ScoringError(f"responses must be numeric, got dtype {arr.dtype}")
    codes = np.ascontiguousarray(codes)
    if not codes_valid(spec, codes):
        valid = np.zeros(256, dtype=bool)  # look-up table: code (as a byte) → accepted
        valid[np.array(spec.valid_values + (int(MISSING),), dtype=np.int8).view(np.uint8)] = True
        _reject(spec, codes, ~valid[codes.view(np.uint8)], expected)
    return codes
