"""Which frozen value type to carry the locate answer in: build one answer and encode it to JSON bytes.

Candidates, all measured in the same run on the same answer (a land point in Bali with three
flags, one jurisdiction candidate and three stations):

* ``dict`` + ``json.dumps`` (what the service did before: the baseline),
* ``@dataclass(slots=True, frozen=True)`` + ``dataclasses.asdict`` + ``json.dumps`` and + ``orjson.dumps``
  (orjson serialises dataclasses natively),
* ``msgspec.Struct(frozen=True, gc=False)`` + ``msgspec.json.encode``,
* pydantic v2 ``BaseModel(frozen=True)`` + ``model_dump_json`` (skipped when pydantic is absent).

Run: ``python bench/bench_typed_answer.py [--n 100000]``
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import time
from typing import Any

import msgspec

FLAGS = [("COORDINATE_ROUNDED", "Koordinat dibulatkan (~780 m).", {"precision_m": 780}),
         ("CIRCLE_CROSSES_BORDER", "Lingkaran ketidakpastian melewati batas wilayah.", {}),
         ("PRESUMED_NEGATED_LATITUDE", "Tanda minus lintang dianggap hilang.", {})]
STATIONS = [("Polsek Denpasar Barat", "51.71.01", 115.2051, -8.6547, 812.3),
            ("Polresta Denpasar", "51.71", 115.2201, -8.6701, 2301.9),
            ("Polsek Denpasar Selatan", "51.71.03", 115.2456, -8.6891, 4402.0)]


# ---------------------------------------------------------------- msgspec
class MUnit(msgspec.Struct, frozen=True, gc=False):
    code: str
    name: str


class MFlag(msgspec.Struct, frozen=True, gc=False):
    code: str
    message: str
    params: dict[str, Any] | msgspec.UnsetType = msgspec.UNSET


class MPoint(msgspec.Struct, frozen=True, gc=False):
    lat: float
    lon: float


class MStation(msgspec.Struct, frozen=True, gc=False):
    name: str
    unit_code: str
    point: MPoint
    distance_m: float


class MJuris(msgspec.Struct, frozen=True, gc=False):
    polda: MUnit | None
    polres: MUnit | None
    polsek: MUnit | None


class MAnswer(msgspec.Struct, frozen=True):
    status: str
    point: MPoint | None
    original: MPoint | None
    format: str | None
    uncertainty_m: float | None
    confidence: float
    flags: list[MFlag]
    match: str
    jurisdiction: MJuris | None
    distance_m: float
    stations: list[MStation]
    boundary_set: int | None


def build_msgspec() -> MAnswer:
    j = MJuris(MUnit("51", "Polda Bali"), MUnit("51.71", "Polresta Denpasar"), MUnit("51.71.01", "Polsek Denpasar Barat"))
    return MAnswer("corrected", MPoint(-8.65, 115.22), MPoint(8.65, 115.22), "decimal", 780.0, 0.64,
                   [MFlag(c, m, p) if p else MFlag(c, m) for c, m, p in FLAGS], "inside", j, 0.0,
                   [MStation(n, u, MPoint(la, lo), d) for n, u, lo, la, d in STATIONS], 1)


# ---------------------------------------------------------------- dataclasses
@dataclasses.dataclass(slots=True, frozen=True)
class DUnit:
    code: str
    name: str


@dataclasses.dataclass(slots=True, frozen=True)
class DFlag:
    code: str
    message: str
    params: dict[str, Any] | None = None


@dataclasses.dataclass(slots=True, frozen=True)
class DPoint:
    lat: float
    lon: float


@dataclasses.dataclass(slots=True, frozen=True)
class DStation:
    name: str
    unit_code: str
    point: DPoint
    distance_m: float


@dataclasses.dataclass(slots=True, frozen=True)
class DJuris:
    polda: DUnit | None
    polres: DUnit | None
    polsek: DUnit | None


@dataclasses.dataclass(slots=True, frozen=True)
class DAnswer:
    status: str
    point: DPoint | None
    original: DPoint | None
    format: str | None
    uncertainty_m: float | None
    confidence: float
    flags: list[DFlag]
    match: str
    jurisdiction: DJuris | None
    distance_m: float
    stations: list[DStation]
    boundary_set: int | None


def build_dataclass() -> DAnswer:
    j = DJuris(DUnit("51", "Polda Bali"), DUnit("51.71", "Polresta Denpasar"), DUnit("51.71.01", "Polsek Denpasar Barat"))
    return DAnswer("corrected", DPoint(-8.65, 115.22), DPoint(8.65, 115.22), "decimal", 780.0, 0.64,
                   [DFlag(c, m, p or None) for c, m, p in FLAGS], "inside", j, 0.0,
                   [DStation(n, u, DPoint(la, lo), d) for n, u, lo, la, d in STATIONS], 1)


def build_dict() -> dict[str, Any]:
    j = {"polda": {"code": "51", "name": "Polda Bali"}, "polres": {"code": "51.71", "name": "Polresta Denpasar"},
         "polsek": {"code": "51.71.01", "name": "Polsek Denpasar Barat"}}
    return {"status": "corrected", "point": {"lat": -8.65, "lon": 115.22}, "original": {"lat": 8.65, "lon": 115.22},
            "format": "decimal", "uncertainty_m": 780.0, "confidence": 0.64,
            "flags": [{"code": c, "message": m, **({"params": p} if p else {})} for c, m, p in FLAGS],
            "match": "inside", "jurisdiction": j, "distance_m": 0.0,
            "stations": [{"name": n, "unit_code": u, "point": {"lat": la, "lon": lo}, "distance_m": d}
                         for n, u, lo, la, d in STATIONS], "boundary_set": 1}


def per_call_us(fn: Any, n: int) -> float:
    best = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        for _ in range(n):
            fn()
        best = min(best, time.perf_counter() - t)
    return best / n * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=50_000)
    args = ap.parse_args()
    enc = msgspec.json.Encoder()
    rows: list[tuple[str, Any]] = [
        ("dict + json.dumps (baseline)", lambda: json.dumps(build_dict()).encode()),
        ("dataclass(slots, frozen) + asdict + json.dumps", lambda: json.dumps(dataclasses.asdict(build_dataclass())).encode()),
    ]
    try:
        import orjson

        rows.append(("dataclass(slots, frozen) + orjson.dumps", lambda: orjson.dumps(build_dataclass())))
        rows.append(("dict + orjson.dumps", lambda: orjson.dumps(build_dict())))
    except ImportError:
        print("(orjson not installed: skipped)")
    rows.append(("msgspec.Struct(frozen, gc=False) + msgspec.json.encode", lambda: enc.encode(build_msgspec())))
    try:
        import pydantic

        class PUnit(pydantic.BaseModel, frozen=True):
            code: str
            name: str

        class PFlag(pydantic.BaseModel, frozen=True):
            code: str
            message: str
            params: dict[str, Any] | None = None

        class PPoint(pydantic.BaseModel, frozen=True):
            lat: float
            lon: float

        class PStation(pydantic.BaseModel, frozen=True):
            name: str
            unit_code: str
            point: PPoint
            distance_m: float

        class PJuris(pydantic.BaseModel, frozen=True):
            polda: PUnit | None
            polres: PUnit | None
            polsek: PUnit | None

        class PAnswer(pydantic.BaseModel, frozen=True):
            status: str
            point: PPoint | None
            original: PPoint | None
            format: str | None
            uncertainty_m: float | None
            confidence: float
            flags: list[PFlag]
            match: str
            jurisdiction: PJuris | None
            distance_m: float
            stations: list[PStation]
            boundary_set: int | None

        def build_pydantic() -> PAnswer:
            j = PJuris(polda=PUnit(code="51", name="Polda Bali"), polres=PUnit(code="51.71", name="Polresta Denpasar"),
                       polsek=PUnit(code="51.71.01", name="Polsek Denpasar Barat"))
            return PAnswer(status="corrected", point=PPoint(lat=-8.65, lon=115.22), original=PPoint(lat=8.65, lon=115.22),
                           format="decimal", uncertainty_m=780.0, confidence=0.64,
                           flags=[PFlag(code=c, message=m, params=p or None) for c, m, p in FLAGS], match="inside",
                           jurisdiction=j, distance_m=0.0,
                           stations=[PStation(name=n, unit_code=u, point=PPoint(lat=la, lon=lo), distance_m=d)
                                     for n, u, lo, la, d in STATIONS], boundary_set=1)

        rows.append((f"pydantic {pydantic.VERSION} BaseModel(frozen) + model_dump_json",
                     lambda: build_pydantic().model_dump_json().encode()))
    except ImportError:
        print("(pydantic not installed: skipped)")
    print(f"build one locate answer and encode it to JSON bytes, best of 3 x {args.n:,} calls")
    base = None
    for label, fn in rows:
        us = per_call_us(fn, args.n)
        base = base or us
        print(f"  {label:<58} {us:6.2f} us  ratio {us / base:4.2f}x")


if __name__ == "__main__":
    main()
