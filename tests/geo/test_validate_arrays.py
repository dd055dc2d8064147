"""The array rules of the batch fast path agree with the scalar rules they stand for."""

from __future__ import annotations

import doctest

import numpy as np

from geo_service.geo import coords, validate_arrays
from geo_service.geo.validate_arrays import cell_precisions_m, decimals_of_floats


def test_decimals_as_the_parser_counts_them() -> None:
    rng = np.random.default_rng(13)
    values = [round(float(v), int(d)) for v, d in zip(rng.uniform(-180, 180, 3000), rng.integers(0, 13, 3000),
                                                       strict=True)]
    values += [114.0, -8.0, 0.5, 115.10, 1e-7, 123456789.123]
    got = decimals_of_floats(values)
    for v, d in zip(values, got.tolist(), strict=True):
        if d >= 0:  # -1 (an exponent) sends the row to the per-point path
            assert d == coords._decimals_of_float(v), v  # noqa: SLF001 - the scalar rule itself
    assert (got >= 0).mean() > 0.99


def test_precision_as_the_parser_measures_it() -> None:
    decimals = np.arange(0, 10)
    lats = np.linspace(-11.0, 6.0, 10)
    got = cell_precisions_m(decimals, lats)
    want = [coords._cell_precision_m(10.0 ** -d, 10.0 ** -d, lat) for d, lat in zip(decimals, lats, strict=True)]  # noqa: SLF001
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_docstring_examples_run() -> None:
    result = doctest.testmod(validate_arrays)
    assert result.failed == 0 and result.attempted > 0
