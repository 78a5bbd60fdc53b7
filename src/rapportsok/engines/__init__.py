"""Where builds are stored and searched: a local folder (the default) or PostgreSQL (engines/base.py
is the contract both keep)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..settings import Settings
    from .base import Engine


def engine_for(settings: Settings) -> Engine:
    """PostgreSQL when a database URL is set, else the index folder."""
    if settings.database:
        from .postgres.engine import PostgresEngine

        return PostgresEngine(settings.database)
    from .local.engine import LocalEngine

    return LocalEngine(settings.index)
