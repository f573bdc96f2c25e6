"""The Arrow compute kernels of the common path, called through ``pyarrow._compute``.

Importing ``pyarrow.compute`` wraps each of Arrow's several hundred kernels in a documented
Python function: about 20 ms, a fifth of an empty run's start-up, for the two kernels every
run uses. Code that needs more kernels (partitioning) imports ``pyarrow.compute`` when used.
"""

from __future__ import annotations

import typing as t

from pyarrow import _compute

if t.TYPE_CHECKING:
    import pyarrow as pa

Values = t.Union["pa.Array", "pa.ChunkedArray"]


def cast(values: Values, target: pa.DataType) -> Values:
    """``pyarrow.compute.cast(values, target)``: a safe cast, ``ArrowInvalid`` if one fails."""
    return _compute.call_function("cast", [values], _compute.CastOptions.safe(target))


def any_not_finite(values: Values) -> bool:
    """Whether a float array holds NaN or an infinity (nulls aside)."""
    finite = _compute.call_function("is_finite", [values])
    return bool(_compute.call_function("any", [_compute.call_function("invert", [finite])]).as_py())
