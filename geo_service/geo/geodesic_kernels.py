"""Compiled kernels: the direct and inverse geodesic problems on WGS 84, the same numbers as pyproj's
``Geod.fwd`` and ``Geod.inv``.

:func:`geo_service.geo.distance.circle_ring` places the 64 vertices of an uncertainty circle with the
direct problem (a start point, an azimuth, a distance: the end point). pyproj answers it with PROJ's
``geod_direct`` (GeographicLib's C library, version 2.x in PROJ 9.5), about 0.4 us a vertex behind its
buffer handling. This module is that computation as numba kernels (:func:`geo_service.geo.jit.kernel`:
IEEE arithmetic, no fast-math, no contraction into fused multiply-adds), written after the algorithm of
C. F. F. Karney, *Algorithms for geodesics*, J. Geodesy 87, 43-55 (2013), following GeographicLib's C
implementation operation for operation (geodesic.c: Copyright (c) Charles Karney (2012-2022)
<charles@karney.com>, licensed under the MIT/X11 License, https://geographiclib.sourceforge.io/), so
that every longitude and latitude is bit-for-bit the one ``GEOD.fwd`` returns
(tests/geo/test_geodesic_kernel.py compares them):

* the series coefficients of order 6 (``A3x``, ``C3x``) are computed here in Python at import, with
  the same floating-point steps as ``geod_init``;
* ``geod_direct`` asks for latitude, longitude and azimuth with a distance input and no flags, so the
  line has the C1, C1p and C3 series, the longitude is not unrolled (it is normalised to [-180, 180]),
  and the ``|f| > 0.01`` Newton step does not apply to WGS 84;
* ``remquo`` and ``remainder`` (no numba equivalent) are computed exactly from ``fmod`` (itself
  exact), which gives the same remainder and the same low bits of the quotient;
* ``sin``, ``cos``, ``atan2``, ``hypot`` and ``sqrt`` are the C library's, as in PROJ.

Of the direct problem, only what ``geod_direct`` computes for the end point's longitude and latitude is here (no azimuth,
reduced length, scales or area). One step is not the C's: :func:`ring` takes the vertex at azimuth
``-a`` as the mirror image of the one at ``a`` (the longitude offset negated), which is exact because
the C library's sin and atan2 are odd and cos and hypot even (see :func:`_line_end`). pyproj's ``fwd``
in degrees passes its inputs to ``geod_direct`` and its outputs back untouched.

The inverse problem (:func:`inverse`, :func:`inverse_distance`, :func:`inverse_many`) ranks the nearest
stations (:func:`geo_service.geo.nearest_kernels.nearest_stations`). It is ``geod_inverse``, i.e.
``geod_geninverse_int`` with the distance as its only output, and what it calls: ``AngDiff`` (with
``sumx``), ``sincosde``, the meridional and equatorial branches, ``InverseStart`` (the really short lines,
the ``Astroid`` start near the antipode and the strip near the cut), Newton's method on ``Lambda12`` with
its bracket, bisection fallback (which the C's comments say WGS 84 does not need; none of the tests'
pairs reaches it) and tolerances, and ``Lengths`` (distance and reduced length, the C2 series
with ``A2m1f``/``C2f``); the area's C4 series is not needed. ``cbrt`` (in ``Astroid``) is the C library's
too, called as an external function. pyproj's ``inv`` passes its inputs to ``geod_inverse`` and returns
azi1, azi2 turned by 180 degrees (its back azimuth) and s12 (tests/geo/test_geodesic_inverse_kernel.py
and bench/check_geodesic_inverse_kernel.py compare all three on 64-bit patterns).

The identity needs PROJ and this module on the same C library (pyproj's wheels link the system's libm,
as numba does) and PROJ built without FMA contraction (x86-64 wheels are); a pyproj whose PROJ differs
would show in tests/geo/test_geodesic_kernel.py and tests/geo/test_geodesic_inverse_kernel.py.
"""

from __future__ import annotations

import math
import sys

import numba
import numpy as np
from numpy.typing import NDArray

from geo_service.geo.geometry import GEOD
from geo_service.geo.jit import kernel

# --- geod_init (Init and geod_init of geodesic.c), in Python doubles -----------------------------------
_A = float(GEOD.a)
_F = float(GEOD.f)
_F1 = 1.0 - _F
_E2 = _F * (2.0 - _F)
_EP2 = _E2 / (_F1 * _F1)
_N = _F / (2.0 - _F)
_B = _A * _F1
_DEGREE = math.pi / 180.0  # pi = M_PI
_TINY = math.sqrt(sys.float_info.min)  # sqrt(DBL_MIN)
_NAN = math.nan
_ORDER = 6


def _polyval(n: int, p: list[float], o: int, x: float) -> float:
    """``polyvalx(n, p + o, x)``: Horner's rule, highest power first."""
    y = 0.0 if n < 0 else p[o]
    for i in range(1, n + 1):
        y = y * x + p[o + i]
    return y


def _a3x() -> tuple[float, ...]:
    coeff = [float(c) for c in (-3, 128, -2, -3, 64, -1, -3, -1, 16, 3, -1, -2, 8, 1, -1, 2, 1, 1)]
    out, o = [], 0
    for j in range(_ORDER - 1, -1, -1):
        m = _ORDER - j - 1 if _ORDER - j - 1 < j else j
        out.append(_polyval(m, coeff, o, _N) / coeff[o + m + 1])
        o += m + 2
    return tuple(out)


def _c3x() -> tuple[float, ...]:
    coeff = [float(c) for c in (
        3, 128, 2, 5, 128, -1, 3, 3, 64, -1, 0, 1, 8, -1, 1, 4,
        5, 256, 1, 3, 128, -3, -2, 3, 64, 1, -3, 2, 32,
        7, 512, -10, 9, 384, 5, -9, 5, 192,
        7, 512, -14, 7, 512,
        21, 2560,
    )]
    out, o = [], 0
    for l in range(1, _ORDER):  # noqa: E741 - the C source's name
        for j in range(_ORDER - 1, l - 1, -1):
            m = _ORDER - j - 1 if _ORDER - j - 1 < j else j
            out.append(_polyval(m, coeff, o, _N) / coeff[o + m + 1])
            o += m + 2
    return tuple(out)


(_A3X0, _A3X1, _A3X2, _A3X3, _A3X4, _A3X5) = _a3x()
(_C3X0, _C3X1, _C3X2, _C3X3, _C3X4, _C3X5, _C3X6, _C3X7, _C3X8, _C3X9,
 _C3X10, _C3X11, _C3X12, _C3X13, _C3X14) = _c3x()


# --- the small helpers of geodesic.c ----------------------------------------------------------------


@kernel
def _signbit(x: float) -> bool:
    return math.copysign(1.0, x) < 0.0


@kernel
def _remainder360(x: float) -> float:
    """C ``remainder(x, 360)``: exact, from ``fmod`` (exact) and the parity of the quotient."""
    t = abs(x)
    if not t < 720.0:  # fmod(t, 720) is t itself below 720 (and a libm call above)
        t = np.fmod(t, 720.0)
    odd = False
    if t >= 360.0:
        t -= 360.0  # exact (Sterbenz)
        odd = True
    if t > 180.0 or (t == 180.0 and odd):  # round the quotient to nearest, ties to even
        t -= 360.0
    return -t if _signbit(x) else t


@kernel
def _remquo90(x: float) -> tuple[float, int]:
    """C ``remquo(x, 90)``: the exact remainder and the quotient's low bits (its sign is x's)."""
    t = abs(x)
    if not t < 360.0:  # as in _remainder360
        t = np.fmod(t, 360.0)
    q = 0
    if t >= 180.0:
        t -= 180.0  # exact (Sterbenz), as each subtraction below
        q = 2
    if t >= 90.0:
        t -= 90.0
        q += 1
    if t > 45.0 or (t == 45.0 and (q & 1) == 1):
        t -= 90.0
        q += 1
    if _signbit(x):
        return -t, -q
    return t, q


@kernel
def _ang_normalize(x: float) -> float:
    y = _remainder360(x)
    return math.copysign(180.0, x) if abs(y) == 180.0 else y


@kernel
def _ang_round(x: float) -> float:
    z = 1.0 / 16.0
    y = abs(x)
    w = z - y
    y = z - w if w > 0.0 else y
    return math.copysign(y, x)


@kernel
def _sincos_quadrant(r: float, q: int, x: float) -> tuple[float, float]:
    """The end of ``sincosdx`` and ``sincosde``: sine and cosine of ``r`` radians (|r| <= pi/4) turned by
    ``q`` quarter turns, a zero sine signed as ``x``."""
    s = math.sin(r)
    c = math.cos(r)
    q &= 3
    if q == 0:
        sinx, cosx = s, c
    elif q == 1:
        sinx, cosx = c, -s
    elif q == 2:
        sinx, cosx = -s, -c
    else:
        sinx, cosx = -c, s
    cosx += 0.0
    if sinx == 0.0:
        sinx = math.copysign(sinx, x)
    return sinx, cosx


@kernel
def _sincosd(x: float) -> tuple[float, float]:
    """``sincosdx``: sine and cosine of ``x`` degrees, reduced exactly to [-45, 45] first."""
    r, q = _remquo90(x)
    return _sincos_quadrant(r * _DEGREE, q, x)


@kernel
def _atan2d(y: float, x: float) -> float:
    """``atan2dx``: atan2 in degrees, computed in [-45, 45] and moved to its quadrant."""
    q = 0
    if abs(y) > abs(x):
        x, y = y, x
        q = 2
    if _signbit(x):
        x = -x
        q += 1
    ang = math.atan2(y, x) / _DEGREE
    if q == 1:
        ang = math.copysign(180.0, y) - ang
    elif q == 2:
        ang = 90.0 - ang
    elif q == 3:
        ang = -90.0 + ang
    return ang


@kernel
def _sin_series_tail(sinx: float, cosx: float, ar: float, y0: float, y1: float, c1: float, c2: float,
                     c3: float, c4: float) -> float:
    """The last two rounds of ``SinCosSeries``'s Clenshaw loop (coefficients 4 down to 1) and its result
    for a sine series, from the accumulators ``y0``, ``y1`` and ``ar = 2 cos(2x)``."""
    y1 = ar * y0 - y1 + c4
    y0 = ar * y1 - y0 + c3
    y1 = ar * y0 - y1 + c2
    y0 = ar * y1 - y0 + c1
    return 2.0 * sinx * cosx * y0


@kernel
def _sin_series6(sinx: float, cosx: float, c1: float, c2: float, c3: float, c4: float, c5: float,
                 c6: float) -> float:
    """``SinCosSeries(TRUE, sinx, cosx, c, 6)`` (Clenshaw summation, the C loop unrolled)."""
    ar = 2.0 * (cosx - sinx) * (cosx + sinx)
    y0 = 0.0
    y1 = 0.0
    y1 = ar * y0 - y1 + c6
    y0 = ar * y1 - y0 + c5
    return _sin_series_tail(sinx, cosx, ar, y0, y1, c1, c2, c3, c4)


@kernel
def _sin_series5(sinx: float, cosx: float, c1: float, c2: float, c3: float, c4: float, c5: float) -> float:
    """``SinCosSeries(TRUE, sinx, cosx, c, 5)``: n odd, so y0 starts at c5."""
    ar = 2.0 * (cosx - sinx) * (cosx + sinx)
    return _sin_series_tail(sinx, cosx, ar, c5, 0.0, c1, c2, c3, c4)


@kernel
def _a1m1(eps: float) -> float:
    """``A1m1f``."""
    t = (((1.0 * (eps * eps) + 4.0) * (eps * eps) + 64.0) * (eps * eps) + 0.0) / 256.0
    return (t + eps) / (1.0 - eps)


#: ``C1f``'s and ``C1pf``'s coefficient tables: for l = 1..6, the polynomial in eps^2 (highest power first)
#: of C1[l]/eps^l (C1p[l]/eps^l), then its denominator.
_C1_COEFF = (-1.0, 6.0, -16.0, 32.0, -9.0, 64.0, -128.0, 2048.0, 9.0, -16.0, 768.0, 3.0, -5.0, 512.0,
             -7.0, 1280.0, -7.0, 2048.0)
_C1P_COEFF = (205.0, -432.0, 768.0, 1536.0, 4005.0, -4736.0, 3840.0, 12288.0, -225.0, 116.0, 384.0,
              -7173.0, 2695.0, 7680.0, 3467.0, 7680.0, 38081.0, 61440.0)


@kernel
def _fourier6(eps: float, k: tuple[float, ...]) -> tuple[float, float, float, float, float, float]:
    """``C1f`` (``k = _C1_COEFF``) or ``C1pf`` (``_C1P_COEFF``): the coefficients [1..6], the C loop
    unrolled (polynomials of order 2, 2, 1, 1, 0, 0 in eps^2)."""
    eps2 = eps * eps
    d = eps
    c1 = d * ((k[0] * eps2 + k[1]) * eps2 + k[2]) / k[3]
    d *= eps
    c2 = d * ((k[4] * eps2 + k[5]) * eps2 + k[6]) / k[7]
    d *= eps
    c3 = d * (k[8] * eps2 + k[9]) / k[10]
    d *= eps
    c4 = d * (k[11] * eps2 + k[12]) / k[13]
    d *= eps
    c5 = d * k[14] / k[15]
    d *= eps
    c6 = d * k[16] / k[17]
    return c1, c2, c3, c4, c5, c6


@kernel
def _a3(eps: float) -> float:
    """``A3f``: polyvalx(5, A3x, eps)."""
    return ((((_A3X0 * eps + _A3X1) * eps + _A3X2) * eps + _A3X3) * eps + _A3X4) * eps + _A3X5


@kernel
def _c3(eps: float) -> tuple[float, float, float, float, float]:
    """``C3f``: C3[1..5]."""
    mult = 1.0
    mult *= eps
    c1 = mult * ((((_C3X0 * eps + _C3X1) * eps + _C3X2) * eps + _C3X3) * eps + _C3X4)
    mult *= eps
    c2 = mult * (((_C3X5 * eps + _C3X6) * eps + _C3X7) * eps + _C3X8)
    mult *= eps
    c3 = mult * ((_C3X9 * eps + _C3X10) * eps + _C3X11)
    mult *= eps
    c4 = mult * (_C3X12 * eps + _C3X13)
    mult *= eps
    c5 = mult * _C3X14
    return c1, c2, c3, c4, c5


# --- geod_direct --------------------------------------------------------------------------------------


@kernel
def _start(lon1: float, lat1: float) -> tuple[float, float, float]:
    """The azimuth-free part of ``geod_lineinit_int``: (AngNormalize(lon1), sbet1, cbet1)."""
    lat1 = _NAN if abs(lat1) > 90.0 else lat1  # LatFix
    sbet1, cbet1 = _sincosd(_ang_round(lat1))
    sbet1 *= _F1
    r = math.hypot(sbet1, cbet1)  # norm2
    sbet1 /= r
    cbet1 /= r
    cbet1 = cbet1 if cbet1 > _TINY else _TINY  # fmax(tiny, cbet1), NaN -> tiny as fmax does
    return _ang_normalize(lon1), sbet1, cbet1


@kernel
def _line_end(sbet1: float, cbet1: float, azi1: float, s12: float) -> tuple[float, float, bool]:
    """``geod_direct`` from a start prepared by :func:`_start` and an azimuth already normalised
    (``AngNormalize``): (AngNormalize(lon12), lat2, whether the azimuth ``-azi1`` gives exactly
    ``-AngNormalize(lon12)`` and the same lat2, see :func:`ring`)."""
    # geod_lineinit (after AngNormalize)
    salp1, calp1 = _sincosd(_ang_round(azi1))
    # geod_lineinit_int (caps: C1, C1p, C3)
    salp0 = salp1 * cbet1
    calp0 = math.hypot(calp1, salp1 * sbet1)
    ssig1 = sbet1
    somg1 = salp0 * sbet1
    csig1 = cbet1 * calp1 if (sbet1 != 0.0 or calp1 != 0.0) else 1.0
    comg1 = csig1
    r = math.hypot(ssig1, csig1)  # norm2
    ssig1 /= r
    csig1 /= r
    k2 = calp0 * calp0 * _EP2
    eps = k2 / (2.0 * (1.0 + math.sqrt(1.0 + k2)) + k2)
    a1m1 = _a1m1(eps)
    c11, c12, c13, c14, c15, c16 = _fourier6(eps, _C1_COEFF)
    b11 = _sin_series6(ssig1, csig1, c11, c12, c13, c14, c15, c16)
    s = math.sin(b11)
    c = math.cos(b11)
    stau1 = ssig1 * c + csig1 * s
    ctau1 = csig1 * c - ssig1 * s
    p1, p2, p3, p4, p5, p6 = _fourier6(eps, _C1P_COEFF)
    c31, c32, c33, c34, c35 = _c3(eps)
    a3c = -_F * salp0 * _a3(eps)
    b31 = _sin_series5(ssig1, csig1, c31, c32, c33, c34, c35)
    # geod_genposition (flags GEOD_NOFLAGS: a distance, the longitude not unrolled)
    tau12 = s12 / (_B * (1.0 + a1m1))
    s = math.sin(tau12)
    c = math.cos(tau12)
    b12 = -_sin_series6(stau1 * c + ctau1 * s, ctau1 * c - stau1 * s, p1, p2, p3, p4, p5, p6)
    sig12 = tau12 - (b12 - b11)
    ssig12 = math.sin(sig12)
    csig12 = math.cos(sig12)
    ssig2 = ssig1 * csig12 + csig1 * ssig12
    csig2 = csig1 * csig12 - ssig1 * ssig12
    sbet2 = calp0 * ssig2
    cbet2 = math.hypot(salp0, calp0 * csig2)
    if cbet2 == 0.0:
        cbet2 = _TINY
        csig2 = _TINY
    somg2 = salp0 * ssig2
    comg2 = csig2
    somg12 = somg2 * comg1 - comg2 * somg1
    omg12 = math.atan2(somg12, comg2 * comg1 + somg2 * somg1)
    lam12 = omg12 + a3c * (sig12 + (_sin_series5(ssig2, csig2, c31, c32, c33, c34, c35) - b31))
    lon12 = lam12 / _DEGREE
    lat2 = _atan2d(sbet2, _F1 * cbet2)
    # With -azi1 every step above gives the same value or its exact negative: salp1, salp0, somg1,
    # somg2, somg12, a3c change sign and nothing else changes, given that the C library's sin and atan2
    # are odd and cos and hypot even (true of glibc's, which work on |x| and set the sign last; the
    # tests compare every vertex with pyproj). Not where a sum could be an exact zero of either sign
    # (somg12 or lam12 zero, e.g. a salp0 that underflows), nor for NaN.
    mirror = somg12 != 0.0 and lam12 != 0.0 and math.isfinite(lam12)
    return _ang_normalize(lon12), lat2, mirror


@kernel
def _direct_from(nlon1: float, sbet1: float, cbet1: float, azi1: float, s12: float) -> tuple[float, float]:
    """``geod_direct`` from a start prepared by :func:`_start`: (lon2, lat2)."""
    lon12, lat2, _ = _line_end(sbet1, cbet1, _ang_normalize(azi1), s12)
    return _ang_normalize(nlon1 + lon12), lat2


@kernel
def direct(lon1: float, lat1: float, azi1: float, s12: float) -> tuple[float, float]:
    """End point ``(lon2, lat2)`` of the geodesic from ``(lon1, lat1)`` at azimuth ``azi1`` (degrees,
    clockwise from north) over ``s12`` metres: ``GEOD.fwd(lon1, lat1, azi1, s12)[:2]``, bit for bit."""
    nlon1, sbet1, cbet1 = _start(lon1, lat1)
    return _direct_from(nlon1, sbet1, cbet1, azi1, s12)


@kernel
def direct_many(lons: NDArray[np.float64], lats: NDArray[np.float64], azis: NDArray[np.float64],
                dists: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """:func:`direct` over equal-length arrays: ``GEOD.fwd(lons, lats, azis, dists)[:2]``."""
    n = lons.shape[0]
    out_lon = np.empty(n)
    out_lat = np.empty(n)
    for i in range(n):
        out_lon[i], out_lat[i] = direct(lons[i], lats[i], azis[i], dists[i])
    return out_lon, out_lat


@kernel
def ring(lon: float, lat: float, radius_m: float, azimuths: NDArray[np.float64]) -> NDArray[np.float64]:
    """The closed ring ``(len(azimuths) + 1, 2)`` of the end points at ``radius_m`` from ``(lon, lat)``
    along each azimuth (the first repeated at the end): ``circle_ring``'s vertices from one start.

    A circle's azimuths come in pairs ``a``, ``-a`` (mod 360; ``circle_ring``'s ``360 - k * 360 / n``
    with ``k`` and ``n - k``, exact for 64 vertices): the second of a pair is the first mirrored, its
    longitude offset negated and the same latitude (:func:`_line_end` says when that holds exactly), so
    the ring costs about half as many direct problems. Where the normalised azimuths are not exact
    opposites, each vertex is computed on its own."""
    n = azimuths.shape[0]
    out = np.empty((n + 1, 2))
    nlon1, sbet1, cbet1 = _start(lon, lat)
    done = np.zeros(n, dtype=np.bool_)
    for i in range(n):
        if done[i]:
            continue
        azi1 = _ang_normalize(azimuths[i])
        lon12, lat2, mirror = _line_end(sbet1, cbet1, azi1, radius_m)
        out[i, 0] = _ang_normalize(nlon1 + lon12)
        out[i, 1] = lat2
        j = n - i
        if mirror and i < j < n and azi1 != 0.0 and _ang_normalize(azimuths[j]) == -azi1:
            out[j, 0] = _ang_normalize(nlon1 + -lon12)
            out[j, 1] = lat2
            done[j] = True
    out[n, 0] = out[0, 0]
    out[n, 1] = out[0, 1]
    return out


# --- geod_inverse ---------------------------------------------------------------------------------------
#
# geod_inverse(g, lat1, lon1, lat2, lon2, &s12, &azi1, &azi2) is geod_geninverse_int with the output mask
# GEOD_DISTANCE (no reduced length, scales or area), then atan2dx of the azimuths' sines and cosines.
# Every Lengths call of geod_geninverse_int still asks for the reduced length m12 (its sign decides the
# meridional branch), Lambda12's derivative is a reduced length too; the constants are Init's and
# geod_init's for WGS 84 (f > 0, |n| < 0.1: InverseStart's f < 0 and eccentric branches are never taken).

_EPSILON = sys.float_info.epsilon  # tol0 = DBL_EPSILON
_TOL0 = _EPSILON
_TOL1 = 200.0 * _TOL0
_TOL2 = math.sqrt(_TOL0)
_TOLB = _TOL0
_XTHRESH = 1000.0 * _TOL2
_MAXIT1 = 20
_MAXIT2 = _MAXIT1 + sys.float_info.mant_dig + 10
_PI = math.pi
_ETOL2 = 0.1 * _TOL2 / math.sqrt(max(0.001, abs(_F)) * min(1.0, 1.0 - _F / 2.0) / 2.0)
_N_ASTROID = 6.0 * abs(_N) * _PI  # 6 * fabs(n) * pi, the first factors of InverseStart's test
_F_HD = _F * 180.0  # g->f * hd
_M1_XTHRESH = -1.0 - _XTHRESH  # -1 - xthresh
_HUGE_N = abs(_N) > 0.1

#: libm's cbrt (Astroid), the function PROJ calls; numba's np.cbrt is a pow(x, 1/3) and may differ.
_cbrt = numba.types.ExternalFunction("cbrt", numba.types.float64(numba.types.float64))

#: ``C2f``'s coefficient table, laid out as ``_C1_COEFF``.
_C2_COEFF = (1.0, 2.0, 16.0, 32.0, 35.0, 64.0, 384.0, 2048.0, 15.0, 80.0, 768.0, 7.0, 35.0, 512.0, 63.0,
             1280.0, 77.0, 2048.0)


@kernel
def _a2m1(eps: float) -> float:
    """``A2m1f``."""
    t = (((-11.0 * (eps * eps) + -28.0) * (eps * eps) + -192.0) * (eps * eps) + 0.0) / 256.0
    return (t - eps) / (1.0 + eps)


@kernel
def _sumx(u: float, v: float) -> tuple[float, float]:
    """``sumx``: the rounded sum and its error (0 of the sum's sign when the sum is 0)."""
    s = u + v
    up = s - v
    vpp = s - up
    up -= u
    vpp -= v
    t = 0.0 - (up + vpp) if s != 0.0 else s
    return s, t


@kernel
def _ang_diff(x: float, y: float) -> tuple[float, float]:
    """``AngDiff``: ``y - x`` reduced to [-180, 180] and its rounding error."""
    d, t = _sumx(_remainder360(-x), _remainder360(y))
    d, t = _sumx(_remainder360(d), t)
    if d == 0.0 or abs(d) == 180.0:
        d = math.copysign(d, y - x if t == 0.0 else -t)
    return d, t


@kernel
def _sincosde(x: float, t: float) -> tuple[float, float]:
    """``sincosde``: sine and cosine of ``x + t`` degrees (``t`` a small correction)."""
    r, q = _remquo90(x)
    return _sincos_quadrant(_ang_round(r + t) * _DEGREE, q, x)


@kernel
def _norm2(sinx: float, cosx: float) -> tuple[float, float]:
    r = math.hypot(sinx, cosx)
    return sinx / r, cosx / r


@kernel
def _pos0(x: float) -> float:
    """``fmax(0.0, x) + 0``: +0 for a negative, zero or NaN ``x``."""
    return (x if x > 0.0 else 0.0) + 0.0


@kernel
def _lengths_s12b(eps: float, sig12: float, ssig1: float, csig1: float, ssig2: float, csig2: float) -> float:
    """``Lengths``' distance / b (``*ps12b``), which needs only the C1 series."""
    a1 = 1.0 + _a1m1(eps)
    c1, c2, c3, c4, c5, c6 = _fourier6(eps, _C1_COEFF)
    b1 = _sin_series6(ssig2, csig2, c1, c2, c3, c4, c5, c6) - _sin_series6(ssig1, csig1, c1, c2, c3, c4, c5, c6)
    return a1 * (sig12 + b1)


@kernel
def _lengths_start(eps: float) -> tuple[float, float, float, tuple[float, float, float, float, float, float],
                                         tuple[float, float, float, float, float, float]]:
    """What ``Lengths`` computes first when it needs the reduced length: (A1, A2, m0, C1[1..6], C2[1..6])
    with A1 = 1 + A1m1, A2 = 1 + A2m1 and m0 = A1m1 - A2m1."""
    a1 = _a1m1(eps)
    c = _fourier6(eps, _C1_COEFF)
    a2 = _a2m1(eps)
    d = _fourier6(eps, _C2_COEFF)
    return 1.0 + a1, 1.0 + a2, a1 - a2, c, d


@kernel
def _m12b(dn1: float, dn2: float, ssig1: float, csig1: float, ssig2: float, csig2: float, j12: float) -> float:
    """``Lengths``' reduced length / b from J12 (parenthesised as the C for coincident points)."""
    return dn2 * (csig1 * ssig2) - dn1 * (ssig1 * csig2) - csig1 * csig2 * j12


@kernel
def _lengths_s12b_m12b(eps: float, sig12: float, ssig1: float, csig1: float, dn1: float, ssig2: float,
                       csig2: float, dn2: float) -> tuple[float, float]:
    """``Lengths`` with ``ps12b`` and ``pm12b``: (distance / b, reduced length / b)."""
    a1, a2, m0, (c1, c2, c3, c4, c5, c6), (d1, d2, d3, d4, d5, d6) = _lengths_start(eps)
    b1 = _sin_series6(ssig2, csig2, c1, c2, c3, c4, c5, c6) - _sin_series6(ssig1, csig1, c1, c2, c3, c4, c5, c6)
    s12b = a1 * (sig12 + b1)
    b2 = _sin_series6(ssig2, csig2, d1, d2, d3, d4, d5, d6) - _sin_series6(ssig1, csig1, d1, d2, d3, d4, d5, d6)
    j12 = m0 * sig12 + (a1 * b1 - a2 * b2)
    return s12b, _m12b(dn1, dn2, ssig1, csig1, ssig2, csig2, j12)


@kernel
def _lengths_m12b(eps: float, sig12: float, ssig1: float, csig1: float, dn1: float, ssig2: float,
                  csig2: float, dn2: float) -> float:
    """``Lengths`` with ``pm12b`` only (Lambda12's derivative): the C1 and C2 series combined first."""
    a1, a2, m0, (c1, c2, c3, c4, c5, c6), (d1, d2, d3, d4, d5, d6) = _lengths_start(eps)
    d1 = a1 * c1 - a2 * d1
    d2 = a1 * c2 - a2 * d2
    d3 = a1 * c3 - a2 * d3
    d4 = a1 * c4 - a2 * d4
    d5 = a1 * c5 - a2 * d5
    d6 = a1 * c6 - a2 * d6
    j12 = m0 * sig12 + (_sin_series6(ssig2, csig2, d1, d2, d3, d4, d5, d6)
                        - _sin_series6(ssig1, csig1, d1, d2, d3, d4, d5, d6))
    return _m12b(dn1, dn2, ssig1, csig1, ssig2, csig2, j12)


@kernel
def _astroid(x: float, y: float) -> float:
    """``Astroid``: the positive root k of k^4 + 2k^3 - (x^2 + y^2 - 1)k^2 - 2y^2 k - y^2 = 0."""
    p = x * x
    q = y * y
    r = (p + q - 1.0) / 6.0
    if not (q == 0.0 and r <= 0.0):
        s = p * q / 4.0
        r2 = r * r
        r3 = r * r2
        disc = s * (s + 2.0 * r3)
        u = r
        if disc >= 0.0:
            t3 = s + r3
            t3 += -math.sqrt(disc) if t3 < 0.0 else math.sqrt(disc)
            t = _cbrt(t3)  # type: ignore[call-overload]  # numba's typed external function
            u += t + (r2 / t if t != 0.0 else 0.0)
        else:
            ang = math.atan2(math.sqrt(-disc), -(s + r3))
            u += 2.0 * r * math.cos(ang / 3.0)
        v = math.sqrt(u * u + q)
        uv = q / (v - u) if u < 0.0 else u + v
        w = (uv - q) / (2.0 * v)
        return uv / (math.sqrt(uv + w * w) + w)
    return 0.0


@kernel
def _inverse_start(sbet1: float, cbet1: float, sbet2: float, cbet2: float, lam12: float, slam12: float,
                   clam12: float) -> tuple[float, float, float, float, float, float]:
    """``InverseStart``: (sig12, salp1, calp1, salp2, calp2, dnm); sig12 < 0 asks for Newton's method
    (then salp2, calp2 are not set), dnm is set for short lines only (0 otherwise)."""
    salp2 = 0.0
    calp2 = 0.0
    dnm = 0.0
    sig12 = -1.0
    sbet12 = sbet2 * cbet1 - cbet2 * sbet1
    cbet12 = cbet2 * cbet1 + sbet2 * sbet1
    shortline = cbet12 >= 0.0 and sbet12 < 0.5 and cbet2 * lam12 < 0.5
    sbet12a = sbet2 * cbet1 + cbet2 * sbet1
    if shortline:
        sbetm2 = (sbet1 + sbet2) * (sbet1 + sbet2)
        sbetm2 /= sbetm2 + (cbet1 + cbet2) * (cbet1 + cbet2)
        dnm = math.sqrt(1.0 + _EP2 * sbetm2)
        omg12 = lam12 / (_F1 * dnm)
        somg12 = math.sin(omg12)
        comg12 = math.cos(omg12)
    else:
        somg12 = slam12
        comg12 = clam12
    salp1 = cbet2 * somg12
    if comg12 >= 0.0:
        calp1 = sbet12 + cbet2 * sbet1 * (somg12 * somg12) / (1.0 + comg12)
    else:
        calp1 = sbet12a - cbet2 * sbet1 * (somg12 * somg12) / (1.0 - comg12)
    ssig12 = math.hypot(salp1, calp1)
    csig12 = sbet1 * sbet2 + cbet1 * cbet2 * comg12
    if shortline and ssig12 < _ETOL2:
        salp2 = cbet1 * somg12
        calp2 = sbet12 - cbet1 * sbet2 * (
            (somg12 * somg12) / (1.0 + comg12) if comg12 >= 0.0 else 1.0 - comg12)
        salp2, calp2 = _norm2(salp2, calp2)
        sig12 = math.atan2(ssig12, csig12)
    elif _HUGE_N or csig12 >= 0.0 or ssig12 >= _N_ASTROID * (cbet1 * cbet1):
        pass  # the zeroth-order spherical estimate
    else:
        # f > 0: x = dlong, y = dlat, the antipode at the origin
        lam12x = math.atan2(-slam12, -clam12)
        k2 = (sbet1 * sbet1) * _EP2
        eps = k2 / (2.0 * (1.0 + math.sqrt(1.0 + k2)) + k2)
        lamscale = _F * cbet1 * _a3(eps) * _PI
        betscale = lamscale * cbet1
        x = lam12x / lamscale
        y = sbet12a / betscale
        if y > -_TOL1 and x > _M1_XTHRESH:
            salp1 = -x if -x < 1.0 else 1.0  # fmin(1, -x)
            calp1 = -math.sqrt(1.0 - salp1 * salp1)
        else:
            k = _astroid(x, y)
            omg12a = lamscale * (-x * k / (1.0 + k))
            somg12 = math.sin(omg12a)
            comg12 = -math.cos(omg12a)
            salp1 = cbet2 * somg12
            calp1 = sbet12a - cbet2 * sbet1 * (somg12 * somg12) / (1.0 - comg12)
    if not salp1 <= 0.0:
        salp1, calp1 = _norm2(salp1, calp1)
    else:
        salp1 = 1.0
        calp1 = 0.0
    return sig12, salp1, calp1, salp2, calp2, dnm


@kernel
def _lambda12(sbet1: float, cbet1: float, dn1: float, sbet2: float, cbet2: float, dn2: float, salp1: float,
              calp1: float, slam120: float, clam120: float, diffp: bool
              ) -> tuple[float, float, float, float, float, float, float, float, float, float]:
    """``Lambda12``: (lam12, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, dlam12), dlam12 0
    unless ``diffp`` (``domg12`` serves the area only)."""
    if sbet1 == 0.0 and calp1 == 0.0:
        calp1 = -_TINY
    salp0 = salp1 * cbet1
    calp0 = math.hypot(calp1, salp1 * sbet1)
    ssig1 = sbet1
    somg1 = salp0 * sbet1
    csig1 = calp1 * cbet1
    comg1 = csig1
    ssig1, csig1 = _norm2(ssig1, csig1)
    salp2 = salp0 / cbet2 if cbet2 != cbet1 else salp1
    if cbet2 != cbet1 or abs(sbet2) != -sbet1:
        t = calp1 * cbet1
        calp2 = math.sqrt(t * t + ((cbet2 - cbet1) * (cbet1 + cbet2) if cbet1 < -sbet1 else
                                   (sbet1 - sbet2) * (sbet1 + sbet2))) / cbet2
    else:
        calp2 = abs(calp1)
    ssig2 = sbet2
    somg2 = salp0 * sbet2
    csig2 = calp2 * cbet2
    comg2 = csig2
    ssig2, csig2 = _norm2(ssig2, csig2)
    sig12 = math.atan2(_pos0(csig1 * ssig2 - ssig1 * csig2), csig1 * csig2 + ssig1 * ssig2)
    somg12 = _pos0(comg1 * somg2 - somg1 * comg2)
    comg12 = comg1 * comg2 + somg1 * somg2
    eta = math.atan2(somg12 * clam120 - comg12 * slam120, comg12 * clam120 + somg12 * slam120)
    k2 = (calp0 * calp0) * _EP2
    eps = k2 / (2.0 * (1.0 + math.sqrt(1.0 + k2)) + k2)
    c1, c2, c3, c4, c5 = _c3(eps)
    b312 = _sin_series5(ssig2, csig2, c1, c2, c3, c4, c5) - _sin_series5(ssig1, csig1, c1, c2, c3, c4, c5)
    domg12 = -_F * _a3(eps) * salp0 * (sig12 + b312)
    lam12 = eta + domg12
    dlam12 = 0.0
    if diffp:
        if calp2 == 0.0:
            dlam12 = -2.0 * _F1 * dn1 / sbet1
        else:
            dlam12 = _lengths_m12b(eps, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2)
            dlam12 *= _F1 / (calp2 * cbet2)
    return lam12, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, dlam12


@kernel
def _inverse_int(lat1: float, lon1: float, lat2: float, lon2: float) -> tuple[float, float, float, float, float]:
    """``geod_geninverse_int`` with GEOD_DISTANCE: (s12, salp1, calp1, salp2, calp2)."""
    lon12, lon12s = _ang_diff(lon1, lon2)
    lonsign = -1 if _signbit(lon12) else 1
    lon12 *= lonsign
    lon12s *= lonsign
    lam12 = lon12 * _DEGREE
    slam12, clam12 = _sincosde(lon12, lon12s)
    lon12s = (180.0 - lon12) - lon12s

    lat1 = _ang_round(_NAN if abs(lat1) > 90.0 else lat1)
    lat2 = _ang_round(_NAN if abs(lat2) > 90.0 else lat2)
    swapp = -1 if (abs(lat1) < abs(lat2) or lat2 != lat2) else 1
    if swapp < 0:
        lonsign *= -1
        lat1, lat2 = lat2, lat1
    latsign = 1 if _signbit(lat1) else -1
    lat1 *= latsign
    lat2 *= latsign

    sbet1, cbet1 = _sincosd(lat1)
    sbet1 *= _F1
    sbet1, cbet1 = _norm2(sbet1, cbet1)
    cbet1 = cbet1 if cbet1 > _TINY else _TINY
    sbet2, cbet2 = _sincosd(lat2)
    sbet2 *= _F1
    sbet2, cbet2 = _norm2(sbet2, cbet2)
    cbet2 = cbet2 if cbet2 > _TINY else _TINY

    if cbet1 < -sbet1:
        if cbet2 == cbet1:
            sbet2 = math.copysign(sbet1, sbet2)
    else:
        if abs(sbet2) == -sbet1:
            cbet2 = cbet1

    dn1 = math.sqrt(1.0 + _EP2 * (sbet1 * sbet1))
    dn2 = math.sqrt(1.0 + _EP2 * (sbet2 * sbet2))

    s12x = 0.0
    salp1 = 0.0
    calp1 = 0.0
    salp2 = 0.0
    calp2 = 0.0
    meridian = lat1 == -90.0 or slam12 == 0.0
    if meridian:
        calp1 = clam12
        salp1 = slam12
        calp2 = 1.0
        salp2 = 0.0
        ssig1 = sbet1
        csig1 = calp1 * cbet1
        ssig2 = sbet2
        csig2 = calp2 * cbet2
        sig12 = math.atan2(_pos0(csig1 * ssig2 - ssig1 * csig2), csig1 * csig2 + ssig1 * ssig2)
        s12x, m12x = _lengths_s12b_m12b(_N, sig12, ssig1, csig1, dn1, ssig2, csig2, dn2)
        if sig12 < 1.0 or m12x >= 0.0:
            if sig12 < 3.0 * _TINY or (sig12 < _TOL0 and (s12x < 0.0 or m12x < 0.0)):
                sig12 = 0.0
                m12x = 0.0
                s12x = 0.0
            s12x *= _B
        else:
            meridian = False

    if not meridian and sbet1 == 0.0 and lon12s >= _F_HD:
        # along the equator
        calp1 = 0.0
        calp2 = 0.0
        salp1 = 1.0
        salp2 = 1.0
        s12x = _A * lam12
    elif not meridian:
        sig12, salp1, calp1, salp2s, calp2s, dnm = _inverse_start(sbet1, cbet1, sbet2, cbet2, lam12, slam12,
                                                                   clam12)
        if sig12 >= 0.0:
            salp2 = salp2s
            calp2 = calp2s
            s12x = sig12 * _B * dnm
        else:
            ssig1 = 0.0
            csig1 = 0.0
            ssig2 = 0.0
            csig2 = 0.0
            eps = 0.0
            numit = 0
            salp1a = _TINY
            calp1a = 1.0
            salp1b = _TINY
            calp1b = -1.0
            tripn = False
            tripb = False
            while True:
                v, salp2, calp2, sig12, ssig1, csig1, ssig2, csig2, eps, dv = _lambda12(
                    sbet1, cbet1, dn1, sbet2, cbet2, dn2, salp1, calp1, slam12, clam12, numit < _MAXIT1)
                if tripb or not (abs(v) >= (8.0 if tripn else 1.0) * _TOL0) or numit == _MAXIT2:
                    break
                if v > 0.0 and (numit > _MAXIT1 or calp1 / salp1 > calp1b / salp1b):
                    salp1b = salp1
                    calp1b = calp1
                elif v < 0.0 and (numit > _MAXIT1 or calp1 / salp1 < calp1a / salp1a):
                    salp1a = salp1
                    calp1a = calp1
                if numit < _MAXIT1 and dv > 0.0:
                    dalp1 = -v / dv
                    if abs(dalp1) < _PI:
                        sdalp1 = math.sin(dalp1)
                        cdalp1 = math.cos(dalp1)
                        nsalp1 = salp1 * cdalp1 + calp1 * sdalp1
                        if nsalp1 > 0.0:
                            calp1 = calp1 * cdalp1 - salp1 * sdalp1
                            salp1 = nsalp1
                            salp1, calp1 = _norm2(salp1, calp1)
                            tripn = abs(v) <= 16.0 * _TOL0
                            numit += 1
                            continue
                salp1 = (salp1a + salp1b) / 2.0
                calp1 = (calp1a + calp1b) / 2.0
                salp1, calp1 = _norm2(salp1, calp1)
                tripn = False
                tripb = (abs(salp1a - salp1) + (calp1a - calp1) < _TOLB
                         or abs(salp1 - salp1b) + (calp1 - calp1b) < _TOLB)
                numit += 1
            s12x = _lengths_s12b(eps, sig12, ssig1, csig1, ssig2, csig2)
            s12x *= _B

    s12 = 0.0 + s12x
    if swapp < 0:
        salp1, salp2 = salp2, salp1
        calp1, calp2 = calp2, calp1
    salp1 *= swapp * lonsign
    calp1 *= swapp * latsign
    salp2 *= swapp * lonsign
    calp2 *= swapp * latsign
    return s12, salp1, calp1, salp2, calp2


@kernel
def inverse(lon1: float, lat1: float, lon2: float, lat2: float) -> tuple[float, float, float]:
    """``GEOD.inv(lon1, lat1, lon2, lat2)`` bit for bit: (azimuth at the start, back azimuth at the end,
    distance in metres); the back azimuth is pyproj's (``geod_inverse``'s azi2 turned by 180 degrees)."""
    s12, salp1, calp1, salp2, calp2 = _inverse_int(lat1, lon1, lat2, lon2)
    azi1 = _atan2d(salp1, calp1)
    azi2 = _atan2d(salp2, calp2)
    azi2 = azi2 - 180.0 if azi2 > 0.0 else azi2 + 180.0  # pyproj's _reverse_azimuth
    return azi1, azi2, s12


@kernel
def inverse_distance(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """``GEOD.inv(lon1, lat1, lon2, lat2)[2]`` bit for bit (the azimuths are not computed)."""
    return _inverse_int(lat1, lon1, lat2, lon2)[0]


@kernel
def inverse_many(lons1: NDArray[np.float64], lats1: NDArray[np.float64], lons2: NDArray[np.float64],
                 lats2: NDArray[np.float64]) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """:func:`inverse` over equal-length arrays: ``GEOD.inv(lons1, lats1, lons2, lats2)``."""
    n = lons1.shape[0]
    az1 = np.empty(n)
    az2 = np.empty(n)
    dist = np.empty(n)
    for i in range(n):
        az1[i], az2[i], dist[i] = inverse(lons1[i], lats1[i], lons2[i], lats2[i])
    return az1, az2, dist


def warm_up() -> None:
    """Load (or compile) the kernels that requests call, with the float64 signatures they are called
    with, so that no request pays for a compilation."""
    direct(0.0, 0.0, 0.0, 1.0)
    a = np.zeros(1)
    direct_many(a, a, a, a)
    azimuths = np.linspace(360.0, 0.0, 8, endpoint=False)
    ring(0.0, 0.0, 1.0, azimuths)
    azimuths.flags.writeable = False  # distance._azimuths' cached arrays are read-only: another type
    ring(0.0, 0.0, 1.0, azimuths)


__all__ = ["direct", "direct_many", "inverse", "inverse_distance", "inverse_many", "ring", "warm_up"]
