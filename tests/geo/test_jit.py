"""geo/jit.py: compiled kernels are cached on disk, and still compile where no cache location exists."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np

from geo_service.geo.jit import kernel


def test_kernel_caches_its_machine_code_beside_the_module(tmp_path: Path) -> None:
    (tmp_path / "mod_k.py").write_text(textwrap.dedent("""
        from geo_service.geo.jit import kernel

        @kernel
        def total(a):
            s = 0.0
            for i in range(a.shape[0]):
                s += a[i]
            return s
    """))
    code = "import numpy as np, mod_k; print(mod_k.total(np.arange(5.0)))"
    for _ in range(2):  # the second process loads what the first compiled
        out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True,
                             check=True)
        assert out.stdout.strip() == "10.0"
    cached = list((tmp_path / "__pycache__").glob("mod_k.total-*.nbi"))
    assert cached, "numba wrote no cache index"


def test_kernel_without_a_cache_location_compiles_per_process() -> None:
    namespace: dict[str, object] = {"kernel": kernel}
    # Code from a string has no file: numba refuses cache=True there ("no locator available").
    exec(textwrap.dedent("""
        @kernel
        def twice(x):
            return 2.0 * x
    """), namespace)
    twice = namespace["twice"]
    assert twice(np.float64(1.5)) == 3.0  # type: ignore[operator]
