"""Archive safety: what an upload may hold, and zip/KMZ members read without trusting them.

A member's name never reaches the file system: names are vetted (absolute, ``..``, drive letter,
NUL), symlinks and encrypted members are refused, declared and inflated sizes are counted
against :class:`FileLimits`, and the few members needed are read into memory, size-capped.
"""

from __future__ import annotations

import io
import re
import stat
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from geo_service.errors import BoundaryFileError


@dataclass(frozen=True)
class FileLimits:
    """Limits on what is inside an upload (the web layer limits the request size)."""

    #: Total uncompressed bytes of the archive members that are read (and declared in all).
    max_uncompressed_bytes: int = 200 * 1024 * 1024
    #: Uncompressed/compressed ratio allowed for members larger than ``ratio_min_bytes``.
    max_compression_ratio: float = 100.0
    ratio_min_bytes: int = 4 * 1024 * 1024
    max_members: int = 100
    max_layers: int = 20
    max_features: int = 50_000
    max_total_vertices: int = 500_000
    max_feature_vertices: int = 200_000
    #: Station and mapping CSV rows.
    max_rows: int = 100_000


def file_error(code: str, detail: str, **extra: Any) -> BoundaryFileError:
    """The refusal of an upload: a stable ``code``, a detail safe to show, ``extra`` facts (e.g. layers)."""
    return BoundaryFileError(detail, code=code, extra=extra or None)


def _unsafe_member_name(name: str) -> bool:
    if not name or "\x00" in name:
        return True
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return True
    return any(part == ".." for part in norm.split("/"))


def open_zip(data: bytes, limits: FileLimits) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open a zip and vet every member (names, symlinks, sizes); return the usable members."""
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise file_error("FILE_UNREADABLE", f"The zip archive cannot be read: {exc}.") from None
    if len(infos) > limits.max_members:
        raise file_error("ARCHIVE_UNSAFE", f"The archive has {len(infos)} members (limit {limits.max_members}).")
    declared = 0
    for info in infos:
        if _unsafe_member_name(info.filename):
            raise file_error("ARCHIVE_UNSAFE", f"Unsafe member name in the archive: {info.filename!r}.")
        mode = info.external_attr >> 16
        if stat.S_ISLNK(mode):
            raise file_error("ARCHIVE_UNSAFE", f"The archive member {info.filename!r} is a symbolic link.")
        if info.flag_bits & 0x1:
            raise file_error("ARCHIVE_UNSAFE", f"The archive member {info.filename!r} is encrypted.")
        declared += info.file_size
        if declared > limits.max_uncompressed_bytes:
            raise file_error(
                "ZIP_BOMB",
                f"The archive declares over {limits.max_uncompressed_bytes:,} bytes uncompressed.",
            )
        if (
            info.file_size > limits.ratio_min_bytes
            and info.file_size > limits.max_compression_ratio * max(info.compress_size, 1)
        ):
            raise file_error(
                "ZIP_BOMB",
                f"The archive member {info.filename!r} is compressed "
                f"{info.file_size / max(info.compress_size, 1):,.0f} times (limit {limits.max_compression_ratio:g}).",
            )
    usable = [
        i for i in infos
        if not i.is_dir()
        and not i.filename.startswith("__MACOSX/")
        and not PurePosixPath(i.filename).name.startswith("._")
    ]
    return zf, usable


def read_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo, limits: FileLimits, budget: list[int]) -> bytes:
    """Read one member, counting the bytes actually inflated against the declared size and budget."""
    chunks: list[bytes] = []
    got = 0
    try:
        with zf.open(info) as fh:
            while chunk := fh.read(1 << 20):
                got += len(chunk)
                budget[0] += len(chunk)
                if got > info.file_size or budget[0] > limits.max_uncompressed_bytes:
                    raise file_error("ZIP_BOMB", f"The archive member {info.filename!r} inflates beyond its size.")
                chunks.append(chunk)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError) as exc:
        raise file_error("FILE_UNREADABLE", f"The archive member {info.filename!r} cannot be read: {exc}.") from None
    return b"".join(chunks)


def members_with_ext(infos: Iterable[zipfile.ZipInfo], ext: str) -> list[zipfile.ZipInfo]:
    """The members whose name ends with ``ext`` (lower case, e.g. ``".shp"``)."""
    return [i for i in infos if i.filename.lower().endswith(ext)]
