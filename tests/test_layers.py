"""The layer rule of STYLE.md: geo/ imports neither Flask nor SQLAlchemy; only web/ imports Flask."""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parent.parent / "geo_service"


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def top(name: str) -> str:
    return name.split(".")[0]


def test_geo_core_is_pure() -> None:
    offenders = []
    for path in (PKG / "geo").rglob("*.py"):
        bad = {m for m in imported_modules(path) if top(m) in {"flask", "sqlalchemy", "geoalchemy2", "werkzeug"}
               or m.startswith(("geo_service.storage", "geo_service.web", "geo_service.services"))}
        if bad:
            offenders.append(f"{path.relative_to(PKG)}: {sorted(bad)}")
    assert not offenders, offenders


def test_only_web_imports_flask() -> None:
    offenders = []
    for path in PKG.rglob("*.py"):
        rel = path.relative_to(PKG)
        if rel.parts[0] == "web" or rel.name == "cli.py":
            continue  # cli.py registers `flask geo ...` lazily, inside a function called by web.app
        bad = {m for m in imported_modules(path) if top(m) in {"flask", "werkzeug"}}
        if bad:
            offenders.append(f"{rel}: {sorted(bad)}")
    assert not offenders, offenders


def test_storage_and_services_do_not_import_web() -> None:
    offenders = []
    for sub in ("storage", "services", "maps"):
        for path in (PKG / sub).rglob("*.py"):
            bad = {m for m in imported_modules(path) if m.startswith("geo_service.web")}
            if bad:
                offenders.append(f"{path.relative_to(PKG)}: {sorted(bad)}")
    assert not offenders, offenders


def test_cli_imports_flask_only_lazily() -> None:
    tree = ast.parse((PKG / "cli.py").read_text(encoding="utf-8"))
    module_level = {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    module_level |= {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
    assert not {m for m in module_level if top(m) in {"flask", "click"}}


def test_geo_reads_files_with_gdal_only_in_the_upload_readers() -> None:
    allowed = {("boundary_files",), ("upload_safety.py",)}
    offenders = []
    for path in (PKG / "geo").rglob("*.py"):
        rel = path.relative_to(PKG / "geo")
        if rel.parts[:1] in allowed:
            continue
        bad = {m for m in imported_modules(path) if top(m) in {"geopandas", "pyogrio", "fiona"}}
        if bad:
            offenders.append(f"geo/{rel}: {sorted(bad)}")
    assert not offenders, offenders
