"""Compiled kernels (issue 13): the one place that configures numba.

Per-request geometry works on arrays of tens to hundreds of rows (the border segments near a point or an
uncertainty circle). At that size numpy spends its time in per-call overhead, and GEOS in building
geometries, so the hot loops are plain Python compiled by numba. :func:`kernel` is ``numba.njit`` with:

* ``cache=True``: the machine code is kept beside the module (``__pycache__``, or numba's user cache
  directory where that is read-only; ``NUMBA_CACHE_DIR`` overrides), so a new process loads it instead of
  compiling again;
* ``fastmath=False`` (the default, kept explicit): IEEE arithmetic, so a kernel and the numpy/GEOS code it
  replaces agree to the last bits the tests check;
* ``nogil=True``: a kernel releases the GIL, so gthread workers run other requests meanwhile.

Kernels take and return numpy arrays and floats only; the geometry module that calls a kernel keeps the
numpy/GEOS version of the same computation as the test oracle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import numba

F = TypeVar("F", bound=Callable[..., Any])


def kernel(func: F) -> F:
    """``numba.njit(cache=True, nogil=True)`` for a geometry kernel (see the module docstring); without a
    writable cache location anywhere, numba refuses ``cache=True``: the kernel then compiles per process."""
    try:
        return numba.njit(cache=True, nogil=True, fastmath=False)(func)  # type: ignore[return-value]
    except RuntimeError:  # "cannot cache function ...: no locator available"
        return numba.njit(cache=False, nogil=True, fastmath=False)(func)  # type: ignore[return-value]


__all__ = ["kernel"]
