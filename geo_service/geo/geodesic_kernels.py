"""Compiled kernel: the direct geodesic problem on WGS 84, the same numbers as pyproj's ``Geod.fwd``.

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

Only what ``geod_direct`` computes for the end point's longitude and latitude is here (no azimuth,
reduced length, scales or area). One step is not the C's: :func:`ring` takes the vertex at azimuth
``-a`` as the mirror image of the one at ``a`` (the longitude offset negated), which is exact because
the C library's sin and atan2 are odd and cos and hypot even (see :func:`_line_end`). pyproj's ``fwd``
in degrees passes its inputs to ``geod_direct`` and its outputs back untouched.

The identity needs PROJ and this module on the same C library (pyproj's wheels link the system's libm,
as numba does) and PROJ built without FMA contraction (x86-64 wheels are); a pyproj whose PROJ differs
would show in tests/geo/test_geodesic_kernel.py.
"""

from __future__ import annotations

import math
import sys

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
def _sincosd(x: float) -> tuple[float, float]:
    """``sincosdx``: sine and cosine of ``x`` degrees, reduced exactly to [-45, 45] first."""
    r, q = _remquo90(x)
    r *= _DEGREE
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


__all__ = ["direct", "direct_many", "ring", "warm_up"]
