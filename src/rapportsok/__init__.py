"""Search and question answering over Norwegian drug-policy reports.

The library the CLI and the HTTP API both call. The names below are loaded on first use, so that
`import rapportsok` (and a cold `rapportsok search`) loads only what it needs:

    from rapportsok import Settings, answer, build, open_index, search

    settings = Settings.resolve(corpus="corpus", index="index")
    build(settings)                       # incremental: embeds only new text
    index = open_index(settings)          # brought up to date first when that is quick
    search(index, "hva sier rapporten om nalokson", k=5).hits
    answer(index, "Hvor mange døde av overdose i Norge i 2023?", llm=settings.llm).text
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .facade import open_index
    from .indexing.build import build
    from .querying.answer import answer
    from .querying.compare import compare
    from .querying.followup import followup, followups
    from .querying.index import Index
    from .querying.search import search
    from .settings import Settings

_PUBLIC = {
    "Settings": "settings",
    "open_index": "facade",
    "Index": "querying.index",
    "build": "indexing.build",
    "search": "querying.search",
    "answer": "querying.answer",
    "compare": "querying.compare",
    "followup": "querying.followup",
    "followups": "querying.followup",
}
__all__ = ["Index", "Settings", "answer", "build", "compare", "followup", "followups", "open_index", "search"]


def __getattr__(name: str) -> Any:
    if name not in _PUBLIC:
        raise AttributeError(f"module 'rapportsok' has no attribute {name!r}")
    return getattr(import_module(f".{_PUBLIC[name]}", __name__), name)
