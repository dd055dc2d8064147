"""What every ``geo-service`` command group shares: settings and storage, the published index, command groups."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

#: Files with at least this many rows get a progress bar.
PROGRESS_MIN_ROWS = 10_000


def settings_and_storage(migrate: bool = True) -> tuple[Any, Any]:
    """Load the settings, connect (one clear line if the database is unusable) and run the migrations."""
    from geo_service.config import load_settings
    from geo_service.storage import db
    from geo_service.storage.db import Storage

    settings = load_settings()
    storage = Storage(settings.database_url, settings.backend)
    db.check_connection(storage.engine, settings.backend)
    if migrate:
        db.upgrade(storage.engine)
    return settings, storage


def load_index(storage: Any, settings: Any) -> Any:
    """The index of the published set (the bundled Bali set is loaded on a fresh database)."""
    from geo_service.services.bootstrap import ensure_bundled
    from geo_service.services.registry import IndexHolder

    ensure_bundled(storage, settings)
    holder = IndexHolder(storage, settings)
    holder.refresh(force=True)
    return holder.current()


def command_group(subparsers: Any, name: str, help_text: str) -> Any:
    """The sub-command action of the group ``name`` (created on first use, reused afterwards)."""
    parser = subparsers.choices.get(name)
    if parser is None:
        parser = subparsers.add_parser(name, help=help_text)
        group = parser.add_subparsers(dest=f"{name}_command", required=True)
        parser.set_defaults(_group_action=group)
        return group
    return parser.get_default("_group_action")


@contextmanager
def row_progress(total: int, desc: str, enabled: bool) -> Iterator[Callable[[int], None]]:
    """A tqdm bar counting rows on stderr (files of :data:`PROGRESS_MIN_ROWS` rows or more); yields its ``update``."""
    from tqdm import tqdm

    with tqdm(total=total, desc=desc, unit="rows", unit_scale=True, file=sys.stderr,
              disable=not enabled or total < PROGRESS_MIN_ROWS) as bar:
        yield bar.update


def step_progress(total: int) -> tuple[Callable[[str], None], Callable[[], None]]:
    """A progress callback taking step messages, and its closer: a tqdm bar with one tick per step on a
    terminal, plain ``... message`` lines on stderr otherwise."""
    from tqdm import tqdm

    bar = tqdm(total=total, file=sys.stderr, unit="step", disable=not sys.stderr.isatty(),
               bar_format="{desc:<28} {bar} {n_fmt}/{total_fmt} [{elapsed}]")

    def step(message: str) -> None:
        if bar.disable:
            print(f"... {message}", file=sys.stderr, flush=True)
            return
        if bar.n or bar.desc:
            bar.update(1)
        bar.set_description_str(message[:28])

    def close() -> None:
        if not bar.disable:
            bar.update(total - bar.n)
        bar.close()

    return step, close
