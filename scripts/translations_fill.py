"""Fill the empty msgstr of the catalogs after `scripts/translations.sh update` (a merge helper).

English (``en``) gets the message id itself (ids are the English texts); other languages take their
texts from a JSON file mapping ``msgid`` (or ``context|msgid``) to the translation, e.g. the ``"id"``
texts of a branch that still kept them in a Python dict. Lists what is still missing; then run
`scripts/translations.sh compile`.

    python scripts/translations_fill.py id=new_id_texts.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from babel.messages.pofile import read_po, write_po

DIR = Path(__file__).resolve().parent.parent / "geo_service" / "translations"


def fill(lang: str, texts: dict[str, str]) -> list[str]:
    """Fill ``lang``'s empty entries; returns the keys still untranslated."""
    path = DIR / lang / "LC_MESSAGES" / "messages.po"
    with open(path, "rb") as f:
        catalog = read_po(f)
    missing = []
    for message in catalog:
        if not message.id or message.string:
            continue
        key = f"{message.context}|{message.id}" if message.context else message.id
        if lang == "en":
            message.string = message.id
        elif key in texts:
            message.string = texts[key]
        else:
            missing.append(key)
    with open(path, "wb") as f:
        write_po(f, catalog, sort_output=True, include_previous=False, ignore_obsolete=True)
    return missing


def main(argv: list[str]) -> int:
    given = dict(arg.split("=", 1) for arg in argv)
    missing = fill("en", {})
    for lang, source in given.items():
        missing += [f"{lang}: {key}" for key in fill(lang, json.loads(Path(source).read_text(encoding="utf-8")))]
    if "id" not in given:
        missing += [f"id: {key}" for key in fill("id", {})]
    for key in missing:
        print("untranslated:", key)
    return 1 if missing else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
