"""Gazetteer: find an Indonesian place (desa/kelurahan, kecamatan, kabupaten/kota, provinsi) by what
people type.

Rules (stated once here, and tested):

* **Keys.** A name is compared by its *key*: NFKD-folded to ASCII, lower case, letters and digits
  only, no spaces (``"Baler Bale Agung"`` -> ``"balerbaleagung"``). Missing, extra or odd spaces
  and punctuation therefore never matter.
* **Prefixes and parts.** ``Desa/Ds./Kel./Kelurahan/Kec./Kecamatan/Kab./Kabupaten/Kota/Kodya/
  Prov./Provinsi`` may stand anywhere, in any order; each one starts a *part* of that kind, and a
  comma ends a part; a prefix written after its name (``Negara Kec.``) applies to that name. The
  place is named by the part opened by ``Desa/Kel.``, else by the first part without a prefix, else
  by the part of the finest kind; the other parts name its parents. ``Kota`` is also the start of
  many real names (``Kota Baru``), so a part opened by ``Kota`` is read both ways and the better
  reading wins.
* **Name score** (0..100) of the naming part against a place: ``100`` for the same key;
  ``80 + 19 x typed/length`` when the key starts with what was typed (suggestions while typing;
  at least :data:`MIN_PREFIX_CHARS` characters); otherwise the rapidfuzz ``ratio`` (normalised
  Indel similarity) when at least :data:`FUZZY_CUTOFF`. Fuzzy candidates come from a bigram
  index (the keys sharing the most bigrams with the typed key), so a query never scans all
  names.
* **Adjustments.** A prefix of another kind than the place's: ``-15``. Each parent part that
  matches one of the place's parents (ratio >= :data:`PARENT_CUTOFF`, of the stated kind if
  any): ``+5``; one that matches none: ``-20``.
* **Ranking.** Places in the preferred area (the hinted or the caller's unit, a vectorised
  ``prefer(lons, lats)`` predicate) first, then the higher score, then the finer kind, then the
  lower code (string order). Deterministic, never row order.
* **One answer or several** (:func:`resolve`): only exact and fuzzy matches count (a prefix is a
  suggestion, not an answer) and only from :data:`RESOLVE_MIN_SCORE`; the best is the answer
  when no other match with the same preference is within :data:`AMBIGUITY_MARGIN` points of it,
  otherwise the name is ambiguous (120 villages are called Sukamaju or Suka Maju).

Points are ``(lon, lat)`` in EPSG:4326; ``radius_m`` is the radius of a circle with the place's
geodesic area (a fair uncertainty for "somewhere in this village").
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from rapidfuzz import fuzz, process

#: Kinds, finest first (the rank breaks ties between equal scores).
KINDS = ("desa", "kelurahan", "kecamatan", "kota", "kabupaten", "provinsi")
_KIND_RANK = {k: i for i, k in enumerate(KINDS)}
#: Prefix words -> the kinds they announce.
PREFIXES: dict[str, tuple[str, ...]] = {
    "desa": ("desa", "kelurahan"), "ds": ("desa", "kelurahan"), "kel": ("kelurahan", "desa"),
    "kelurahan": ("kelurahan", "desa"), "kec": ("kecamatan",), "kecamatan": ("kecamatan",),
    "kab": ("kabupaten",), "kabupaten": ("kabupaten",), "kota": ("kota",), "kodya": ("kota",),
    "kotamadya": ("kota",), "prov": ("provinsi",), "provinsi": ("provinsi",), "propinsi": ("provinsi",),
}
#: Prefix words that are also glued to names by hurried typists ("DesaSukamaju").
_GLUED = ("kelurahan", "kecamatan", "kabupaten", "provinsi", "desa")
#: Lowest fuzzy ratio taken as a match.
FUZZY_CUTOFF = 80.0
#: Lowest ratio for a parent part to match a parent's name.
PARENT_CUTOFF = 85.0
#: A prefix match needs this many typed characters.
MIN_PREFIX_CHARS = 3
#: Fuzzy matching needs this many typed characters.
MIN_FUZZY_CHARS = 4
#: Keys examined by rapidfuzz per query (those sharing the most bigrams with the typed key).
FUZZY_POOL = 400
#: Keys taken from the prefix range per query.
PREFIX_POOL = 300
#: Places scored in full per query (the best keys first).
PLACE_POOL = 400
#: :func:`resolve` takes no match below this score as an answer.
RESOLVE_MIN_SCORE = 85.0
#: Matches this close to the best (and with the same preference) make a name ambiguous.
AMBIGUITY_MARGIN = 3.0
KIND_MISMATCH = -15.0
PARENT_MATCH = 5.0
PARENT_MISMATCH = -20.0

_SPLIT = re.compile(r"[^0-9a-z,]+")
_NOT_KEY = re.compile(r"[^0-9a-z]+")


def name_key(text: str) -> str:
    """The comparison key of a name: ASCII, lower case, letters and digits only.

    Examples
    --------
    >>> name_key("  Baler  Bale-Agung ")
    'balerbaleagung'
    """
    if not text.isascii():
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return _NOT_KEY.sub("", text.lower())


def _bigrams(key: str) -> set[str]:
    padded = f"^{key}$"
    return {padded[i:i + 2] for i in range(len(padded) - 1)}


@dataclass(frozen=True)
class Place:
    """One named place: ``parents`` are ``(kind, code, name)``, nearest first."""

    kind: str
    code: str
    name: str
    parents: tuple[tuple[str, str, str], ...]
    lon: float
    lat: float
    radius_m: float

    def to_dict(self) -> dict[str, Any]:
        """JSON form: ``{"kind", "code", "name", "parents", "point", "radius_m"}``."""
        return {
            "kind": self.kind, "code": self.code, "name": self.name,
            "parents": [{"kind": k, "code": c, "name": n} for k, c, n in self.parents],
            "point": {"lat": round(self.lat, 7), "lon": round(self.lon, 7)},
            "radius_m": round(self.radius_m),
        }

    @property
    def label(self) -> str:
        """``"Baler Bale Agung, Negara, Kabupaten Jembrana"`` (the place and its first two parents),
        text that :meth:`Gazetteer.search` reads back to this place."""
        return ", ".join([self.name, *(n for _, _, n in self.parents[:2])])


@dataclass(frozen=True)
class PlaceMatch:
    """A place found for a query, with its score, how the name matched and its preference."""

    place: Place
    score: float
    how: str  # exact | prefix | fuzzy
    preferred: bool = False

    def to_dict(self) -> dict[str, Any]:
        """The place's JSON form plus ``score``, ``match`` and ``preferred``."""
        return {**self.place.to_dict(), "score": round(self.score, 1), "match": self.how,
                "preferred": self.preferred, "label": self.place.label}


@dataclass(frozen=True)
class _Part:
    key: str
    kinds: tuple[str, ...] | None


@dataclass(frozen=True)
class _Reading:
    name: _Part
    parents: tuple[_Part, ...]


def _parts(text: str) -> list[list[tuple[str, tuple[str, ...] | None, str | None]]]:
    """Split a query into parts of ``(key, kinds, opening prefix word)``; a list of readings."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii").lower()
    tokens = [t for t in _SPLIT.split(folded.replace(",", " , ")) if t]
    parts: list[tuple[list[str], tuple[str, ...] | None, str | None]] = []
    current: list[str] = []
    kinds: tuple[str, ...] | None = None
    opener: str | None = None

    def close() -> None:
        if current:
            parts.append((list(current), kinds, opener))
        elif kinds and parts and parts[-1][1] is None:
            # A prefix written after its name ("Negara Kec.", "Jembrana, Kab.") still names its kind.
            parts[-1] = (parts[-1][0], kinds, opener)

    for tok in tokens:
        if tok == ",":
            close()
            current, kinds, opener = [], None, None
            continue
        word = tok
        glued = next((g for g in _GLUED if tok.startswith(g) and len(tok) >= len(g) + 3), None)
        if tok in PREFIXES or glued:
            close()
            word = tok if tok in PREFIXES else glued  # type: ignore[assignment]
            current, kinds, opener = ([] if tok in PREFIXES else [tok[len(word):]]), PREFIXES[word], word
            continue
        current.append(tok)
    close()
    plain = [("".join(words), k, o) for words, k, o in parts]
    readings = [plain]
    # "Kota Baru" may be a village called Kota Baru: read the Kota part also as a plain name.
    for i, (key, _k, opener_word) in enumerate(plain):
        if opener_word in ("kota", "kodya"):
            readings.append(plain[:i] + [(opener_word + key, None, None)] + plain[i + 1:])
    return readings


def _reading(parts: list[tuple[str, tuple[str, ...] | None, str | None]]) -> _Reading | None:
    parts = [p for p in parts if p[0]]
    if not parts:
        return None
    # The name: a part opened by Desa/Kel., else the first part without a prefix, else the finest part.
    village = [i for i, p in enumerate(parts) if p[1] and "desa" in p[1]]
    plain = [i for i, p in enumerate(parts) if not p[1]]
    if village:
        main = village[0]
    elif plain:
        main = plain[0]
    else:
        main = min(range(len(parts)), key=lambda i: min(_KIND_RANK[k] for k in parts[i][1] or ()))
    name = _Part(parts[main][0], parts[main][1])
    parents = tuple(_Part(k, kinds) for i, (k, kinds, _o) in enumerate(parts) if i != main)
    return _Reading(name, parents)


class Gazetteer:
    """An immutable in-memory search structure over places (build once per process)."""

    def __init__(self, places: Sequence[Place]) -> None:
        self._places = list(places)
        self.lons = np.array([p.lon for p in self._places], dtype=float)
        self.lats = np.array([p.lat for p in self._places], dtype=float)
        by_key: dict[str, list[int]] = {}
        for i, p in enumerate(self._places):
            by_key.setdefault(self._key_of(p.name, p.kind), []).append(i)
        self._keys = sorted(by_key)
        self._key_pos = {k: j for j, k in enumerate(self._keys)}
        self._key_places = [by_key[k] for k in self._keys]
        postings: dict[str, list[int]] = {}
        for j, key in enumerate(self._keys):
            for bg in _bigrams(key):
                postings.setdefault(bg, []).append(j)
        self._postings = {bg: np.array(ids, dtype=np.int32) for bg, ids in postings.items()}
        self._key_bigrams = np.array([len(key) + 1 for key in self._keys], dtype=np.int32)
        self._by_code = {p.code: i for i, p in enumerate(self._places)}

    _keys_cache: dict[tuple[str, str], str]

    def _key_of(self, name: str, kind: str) -> str:
        # Parent names repeat thousands of times: one key per (name, kind).
        cache = self.__dict__.setdefault("_keys_cache", {})
        k = cache.get((name, kind))
        if k is None:
            k = cache[(name, kind)] = name_key(_strip_kind(name) if kind in ("kabupaten", "kota") else name)
        return k

    def __len__(self) -> int:
        return len(self._places)

    def place(self, code: str) -> Place:
        """The place with this Kemendagri code (KeyError when unknown)."""
        return self._places[self._by_code[code]]

    def exact(self, name: str) -> list[Place]:
        """Places whose key equals the key of ``name`` (the plain dictionary lookup, for comparison)."""
        found: list[Place] = []
        for key in dict.fromkeys((name_key(name), name_key(_strip_kind(name)))):
            j = self._key_pos.get(key)
            found += [] if j is None else [self._places[i] for i in self._key_places[j]]
        return found

    # ------------------------------------------------------------------ search
    def _key_scores(self, key: str) -> dict[int, tuple[float, str]]:
        """Name score and kind of match of each candidate key position."""
        out: dict[int, tuple[float, str]] = {}
        j = self._key_pos.get(key)
        if j is not None:
            out[j] = (100.0, "exact")
        if len(key) >= MIN_PREFIX_CHARS:
            lo = bisect.bisect_left(self._keys, key)
            hi = bisect.bisect_left(self._keys, key + "\x7f", lo)
            for p in range(lo, min(hi, lo + PREFIX_POOL)):
                if p not in out:
                    out[p] = (80.0 + 19.0 * len(key) / len(self._keys[p]), "prefix")
        if j is None and len(key) >= MIN_FUZZY_CHARS:  # a name typed right needs no fuzzy pool
            grams = [self._postings[g] for g in _bigrams(key) if g in self._postings]
            if grams:
                ids = np.concatenate(grams)
                counts = np.bincount(ids, minlength=len(self._keys))
                shared = np.flatnonzero(counts)
                # Dice of bigram sets: an upper bound of the edit similarity, good for ranking.
                dice = counts[shared] * 2.0 / (self._key_bigrams[shared] + len(key) + 1)
                if len(shared) > FUZZY_POOL:
                    keep = np.argpartition(-dice, FUZZY_POOL)[:FUZZY_POOL]
                    shared = shared[keep]
                top = shared
                pool = [self._keys[t] for t in top]
                for _k, score, i in process.extract(key, pool, scorer=fuzz.ratio, score_cutoff=FUZZY_CUTOFF,
                                                    limit=None):
                    p = int(top[i])
                    if p not in out or out[p][0] < score:
                        out[p] = (float(score), "exact" if score >= 100.0 else "fuzzy")
        return out

    def _parent_bonus(self, i: int, parents: tuple[_Part, ...]) -> float:
        bonus = 0.0
        for part in parents:
            hit = any((part.kinds is None or kind in part.kinds)
                      and (pkey == part.key or fuzz.ratio(part.key, pkey, score_cutoff=PARENT_CUTOFF) > 0)
                      for kind, pkey in ((k, self._key_of(n, k)) for k, _c, n in self._places[i].parents))
            bonus += PARENT_MATCH if hit else PARENT_MISMATCH
        return bonus

    def search(
        self,
        text: str,
        *,
        limit: int = 10,
        prefer: Callable[[NDArray[np.float64], NDArray[np.float64]], NDArray[np.bool_]] | None = None,
    ) -> list[PlaceMatch]:
        """Ranked places for ``text`` (see the module rules).

        Parameters
        ----------
        text : str
            What was typed: ``"Ds. Baler Bale Agung, Kec. Negara"``, ``"sukamju"``, ``"Kota Denpasar"``.
        limit : int
            At most this many matches.
        prefer : callable, optional
            ``prefer(lons, lats) -> bool array``: places for which it is true rank first
            (the caller's or the hinted unit).

        Examples
        --------
        >>> g = Gazetteer([Place("desa", "51.01.01.1006", "Baler Bale Agung",
        ...                      (("kecamatan", "51.01.01", "Negara"),), 114.629, -8.292, 2327.0)])
        >>> [(m.place.code, m.how) for m in g.search("Desa Balerbale agug, Negara")]
        [('51.01.01.1006', 'fuzzy')]
        """
        best: dict[int, tuple[float, str]] = {}
        for raw in _parts(text):
            reading = _reading(raw)
            if reading is None:
                continue
            keys = sorted(self._key_scores(reading.name.key).items(), key=lambda kv: -kv[1][0])
            taken = 0
            for j, (score, how) in keys:
                for i in self._key_places[j]:
                    kind = self._places[i].kind
                    s = score
                    if reading.name.kinds is not None and kind not in reading.name.kinds:
                        s += KIND_MISMATCH
                    if reading.parents:
                        s += self._parent_bonus(i, reading.parents)
                    if i not in best or best[i][0] < s:
                        best[i] = (s, how)
                taken += len(self._key_places[j])
                if taken >= PLACE_POOL:
                    break
        if not best:
            return []
        ids = np.fromiter(best, dtype=np.int64, count=len(best))
        preferred = (np.asarray(prefer(self.lons[ids], self.lats[ids]), dtype=bool) if prefer is not None
                     else np.zeros(len(ids), dtype=bool))
        pref = dict(zip(ids.tolist(), preferred.tolist(), strict=True))
        order = sorted(best, key=lambda i: (not pref[i], -best[i][0], _KIND_RANK.get(self._places[i].kind, 9),
                                            self._places[i].code))
        return [PlaceMatch(self._places[i], best[i][0], best[i][1], pref[i]) for i in order[:max(limit, 0)]]


def _strip_kind(name: str) -> str:
    for prefix in ("Kabupaten ", "Kota "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def resolve(matches: Iterable[PlaceMatch]) -> list[PlaceMatch]:
    """The answer among ranked matches: one match, several (ambiguous) or none (see module rules).

    Examples
    --------
    >>> p = Place("desa", "1", "Sukamaju", (), 107.0, -6.9, 900.0)
    >>> q = Place("desa", "2", "Sukamaju", (), 108.0, -7.1, 900.0)
    >>> len(resolve([PlaceMatch(p, 100.0, "exact"), PlaceMatch(q, 100.0, "exact")]))
    2
    >>> len(resolve([PlaceMatch(p, 100.0, "exact", True), PlaceMatch(q, 100.0, "exact")]))
    1
    """
    answers = [m for m in matches if m.how != "prefix" and m.score >= RESOLVE_MIN_SCORE]
    if not answers:
        return []
    top = answers[0]
    return [m for m in answers if m.preferred == top.preferred and m.score >= top.score - AMBIGUITY_MARGIN]
