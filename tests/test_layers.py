"""The layer rule of STYLE.md: geo/ imports neither Flask nor SQLAlchemy; only web/ imports Flask."""

from __future__ import annotations

import ast
import subprocess
import sys
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
        if rel.parts[0] == "web":
            continue
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


def module_level_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = {a.name for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    return names | {n.module for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}


def test_cli_imports_flask_only_lazily() -> None:
    offenders = []
    for path in (PKG / "cli").rglob("*.py"):
        bad = {m for m in module_level_imports(path)
               if top(m) in {"flask", "click", "werkzeug"} or m.startswith("geo_service.web")}
        if bad:
            offenders.append(f"{path.relative_to(PKG)}: {sorted(bad)}")
    assert not offenders, offenders


def test_no_import_circle_between_cli_and_web() -> None:
    """``cli serve`` builds the app, so web/ must never import the CLI (``geo_service.create_app`` wires both)."""
    offenders = []
    for path in (PKG / "web").rglob("*.py"):
        bad = {m for m in imported_modules(path) if m == "geo_service.cli" or m.startswith("geo_service.cli.")}
        if bad:
            offenders.append(f"{path.relative_to(PKG)}: {sorted(bad)}")
    assert not offenders, offenders
    # Building every command's parser loads no Flask and nothing of web/.
    code = ("import sys; import geo_service.cli as c; c.build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'flask' or m.startswith('geo_service.web')))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert done.stdout.strip() == "[]", done.stdout


#: What services/ and web/ may take from SQLAlchemy: the session type and the exceptions. Queries live in storage/.
SQLALCHEMY_ALLOWED = {"sqlalchemy.orm": {"Session"}, "sqlalchemy.exc": None}
SESSION_QUERY_METHODS = {"execute", "query", "scalar", "scalars"}


def test_sql_only_in_storage() -> None:
    """services/, web/ and cli/ build no query (select/insert/update/delete/text/func...) and run none themselves."""
    offenders = []
    for sub in ("services", "web", "cli", "maps"):
        for path in (PKG / sub).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                bad = None
                if isinstance(node, ast.Import):
                    bad = [a.name for a in node.names if top(a.name) == "sqlalchemy"]
                elif isinstance(node, ast.ImportFrom) and node.module and top(node.module) == "sqlalchemy":
                    allowed = SQLALCHEMY_ALLOWED.get(node.module, set())
                    bad = [f"{node.module}.{a.name}" for a in node.names if allowed is not None and a.name not in allowed]
                elif (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                      and node.func.attr in SESSION_QUERY_METHODS and isinstance(node.func.value, ast.Name)
                      and "session" in node.func.value.id):
                    bad = [f"{node.func.value.id}.{node.func.attr}() at line {node.lineno}"]
                if bad:
                    offenders.append(f"{path.relative_to(PKG)}: {bad}")
    assert not offenders, offenders


def blueprint_modules() -> set[str]:
    """The web/ modules that define a blueprint (``bp = Blueprint(...)``)."""
    return {path.stem for path in (PKG / "web").glob("*.py") if "Blueprint(" in path.read_text(encoding="utf-8")}


def web_modules_imported(path: Path) -> set[str]:
    """The ``geo_service.web`` modules a file imports (``from geo_service.web import x`` counts as ``x``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "geo_service.web":
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geo_service.web."):
            found.add(node.module.split(".")[2])
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[2] for a in node.names if a.name.startswith("geo_service.web."))
    return found


def test_blueprints_do_not_import_each_other() -> None:
    """Blueprints share through web/common.py (and the other modules below them); only app.py registers them."""
    blueprints = blueprint_modules()
    assert {"api", "pages", "admin", "incidents"} <= blueprints
    offenders = []
    for path in (PKG / "web").glob("*.py"):
        if path.stem == "app":
            continue
        bad = (web_modules_imported(path) & blueprints) - {path.stem}
        if bad:
            offenders.append(f"web/{path.name}: {sorted(bad)}")
    assert not offenders, offenders


def test_no_private_names_across_modules() -> None:
    """No ``from x import _name`` and no ``obj._name`` read outside its own class (``self``/``cls``)."""
    offenders = []
    for path in PKG.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("geo_service"):
                offenders += [f"{path.relative_to(PKG)}: imports {a.name}" for a in node.names
                              if a.name.startswith("_") and not a.name.startswith("__")]
            elif (isinstance(node, ast.Attribute) and isinstance(node.ctx, ast.Load)
                  and node.attr.startswith("_") and not node.attr.startswith("__")
                  and not (isinstance(node.value, ast.Name) and node.value.id in {"self", "cls"})):
                offenders.append(f"{path.relative_to(PKG)}:{node.lineno}: .{node.attr}")
    assert not offenders, offenders


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
