"""``geo-service calls import|report`` and ``demo seed --calls`` / ``demo clear`` in a real console process
on a temporary data dir (embedded SQLite default); the README's sample file imports cleanly."""

from __future__ import annotations

import json
from pathlib import Path

from tests.test_cli_boundaries import clean_env, run_console

SAMPLE = Path(__file__).resolve().parent.parent / "docs" / "calls-sample.csv"


def test_calls_import_report_and_demo(tmp_path: Path) -> None:
    env = clean_env(tmp_path / "instance")
    res = run_console(["calls", "import", str(SAMPLE)], env)
    assert res.returncode == 0, res.stderr
    lines = SAMPLE.read_text().strip().splitlines()
    assert f"{len(lines) - 1} rows: {len(lines) - 1} created, 0 updated, 0 rejected" in res.stdout

    bad = tmp_path / "bad.csv"
    bad.write_text(lines[0] + "\n" + lines[1] + "\n" + lines[2].replace("51.71", "77.77", 1) + "\n")
    res = run_console(["calls", "import", str(bad)], env)
    assert res.returncode == 0, res.stderr
    assert "2 rows: 0 created, 1 updated, 1 rejected" in res.stdout
    assert "line 3: " in res.stderr and "77.77" in res.stderr

    res = run_console(["calls", "report", "--unit", "51", "--from", "2026-11-23", "--to", "2026-11-29"], env)
    assert res.returncode == 0, res.stderr
    report = json.loads(res.stdout)
    assert report["unit"]["code"] == "51" and report["calls"]["offered"] > 0

    res = run_console(["demo", "seed", "--calls", "--count", "3"], env)
    assert res.returncode == 0, res.stderr
    assert "demo calls (110) stored" in res.stdout
    from datetime import date, timedelta

    from geo_service.services.calls import structure_in_force

    today = date.today()
    res = run_console(["calls", "report", "--unit", "MABES", "--from", str(today - timedelta(days=31)),
                       "--to", str(today + timedelta(days=1))], env)
    national = json.loads(res.stdout)
    offered = {k["unit"]["code"]: k["calls"]["offered"] for k in national["children"]}
    poldas = [r.code for r in structure_in_force(today) if r.level == "polda"]
    assert all(offered[code] > 0 for code in poldas) and offered["MABES"] > 0, offered
    assert national["below_half_answered"]
    res = run_console(["demo", "clear"], env)
    assert res.returncode == 0 and "demo calls deleted" in res.stdout, res.stderr
    assert not res.stdout.strip().endswith(" 0 demo calls deleted")
