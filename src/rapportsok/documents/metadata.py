"""corpus/metadata.json checked field by field: a bad value is one warning naming its entry, never a crash."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
WebAddress = Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000, pattern=r"^https?://[^\s<>\"'`]+$")]


class Entry(BaseModel):
    """What one document's entry may say; unknown keys are kept out, wrong values dropped."""

    model_config = ConfigDict(extra="ignore")

    title: Text | None = None
    year: Annotated[int, Field(ge=1000, le=9999)] | None = None  # "2004" and 2004.0 pass; inf, 1e400, 20.5 do not
    kind: Text | None = None
    citation: Text | None = None  # how the document is cited, e.g. "Meld. St. 5 (2024–2025)"
    url: WebAddress | None = None  # where the original is on the web: citations of a web page link its sections there


def read_metadata(path: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """The file's valid fields keyed by document id, and one warning per entry (or file) that is wrong."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except RecursionError:
        return {}, [f"{path}: metadata nested too deeply, ignored; titles taken from the files"]
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        return {}, [f"{path}: unreadable metadata ({reason}), titles taken from the files"]
    if not isinstance(data, dict):
        return {}, [f"{path}: metadata is not an object keyed by document, ignored"]
    entries: dict[str, dict[str, Any]] = {}
    warnings: list[str] = []
    for doc, raw in data.items():
        if not isinstance(raw, dict):
            warnings.append(f"{path}: entry {doc!r} is not an object, ignored")
            continue
        entries[doc], bad = _valid_fields(raw)
        if bad:
            warnings.append(f"{path}: entry {doc!r}: {'; '.join(bad)}; the rest of the entry is used")
    return entries, warnings


def _valid_fields(raw: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The entry's valid fields (only those it sets) and a note per invalid one."""
    known = {key: raw[key] for key in Entry.model_fields if key in raw}
    try:
        return Entry.model_validate(known).model_dump(include=set(known)), []
    except ValidationError as exc:
        # loc and msg only: the offending value may be too deep to print
        bad = {str(error["loc"][0]): error["msg"] for error in exc.errors(include_input=False)}
    kept = {key: value for key, value in known.items() if key not in bad}
    return Entry.model_validate(kept).model_dump(include=set(kept)), [f"{key}: {msg}" for key, msg in bad.items()]
