"""Check one annotation pass folder: every file parses and follows the README's shape.

    python extractors/corpus/check.py extractors/corpus/pass_a [FILE_STEM ...]

Prints one line per problem and exits 1 if there is any; silent and 0 when all is well.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

TYPES = {"PERSON", "ORG", "GPE", "NORP"}
NAME_LISTS = {"stances": ("holder", "targets"), "amounts": ("donor", "recipient"),
              "quotes": ("speaker",)}


def _names(value: object) -> bool:
    return isinstance(value, list) and bool(value) and all(isinstance(v, str) and v for v in value)


def problems(path: Path) -> list[str]:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        return [f"{path}: not JSON: {exc}"]
    out: list[str] = []
    if doc.get("id") != path.stem:
        out.append(f"{path}: id {doc.get('id')!r} is not the file stem")
    for field in ("actors", "amounts", "stances", "quotes"):
        if not isinstance(doc.get(field), list):
            out.append(f"{path}: {field} must be a list")
    for i, actor in enumerate(doc.get("actors") or []):
        if not _names(actor.get("names")) or actor.get("type") not in TYPES:
            out.append(f"{path}: actors[{i}] needs names (list) and a type in {sorted(TYPES)}")
    known = {n.lower() for a in doc.get("actors") or [] for n in a.get("names") or []}
    for i, amount in enumerate(doc.get("amounts") or []):
        if not isinstance(amount.get("value"), int | float) or not isinstance(
                amount.get("currency"), str) or len(amount.get("currency", "")) != 3:
            out.append(f"{path}: amounts[{i}] needs a numeric value and a 3-letter currency")
    for i, stance in enumerate(doc.get("stances") or []):
        if stance.get("polarity") not in ("support", "oppose"):
            out.append(f"{path}: stances[{i}] polarity must be support or oppose")
        if not _names(stance.get("targets")):
            out.append(f"{path}: stances[{i}] needs targets (a non-empty list)")
    for i, quote in enumerate(doc.get("quotes") or []):
        if quote.get("kind") not in ("direct", "reported") or not quote.get("text"):
            out.append(f"{path}: quotes[{i}] needs text and kind direct|reported")
    for field, keys in NAME_LISTS.items():
        for i, item in enumerate(doc.get(field) or []):
            for key in keys:
                value = item.get(key)
                if value is None and key in ("donor", "recipient"):
                    continue
                if not _names(value):
                    out.append(f"{path}: {field}[{i}].{key} must be a non-empty list of names")
                elif key != "targets" and value[0].lower() not in known:
                    out.append(f"{path}: {field}[{i}].{key} {value[0]!r} is not among the actors")
    return out


def main() -> None:
    folder = Path(sys.argv[1])
    stems = sys.argv[2:]
    files = [folder / f"{s}.json" for s in stems] if stems else sorted(folder.glob("*.json"))
    found = [p for f in files for p in (problems(f) if f.exists() else [f"{f}: missing"])]
    print("\n".join(found)) if found else None
    sys.exit(1 if found else 0)


if __name__ == "__main__":
    main()
