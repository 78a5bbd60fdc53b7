"""The engine contract for the local engine (a folder of build folders), changes stored as parts."""

from __future__ import annotations

from pathlib import Path

import pytest
from serving import clone_index

from rapportsok.engines.local import engine as local
from rapportsok.settings import Settings

from .contract import EngineContract, ToEngine


class TestLocalEngine(EngineContract):
    @pytest.fixture
    def to_engine(self, monkeypatch: pytest.MonkeyPatch) -> ToEngine:
        """Builds stay in the index folder; a change is stored as a part of its own even in a small
        corpus (where one document is more than DELTA_SHARE of the rows), so the contract covers parts."""
        monkeypatch.setattr(local, "DELTA_SHARE", 10.0)
        return lambda settings: settings

    @pytest.fixture
    def older(self, full: Settings, tmp_path: Path) -> Settings:
        """A copy of the shipped index: written before BuildMeta and FollowupEvidence (the files are the same)."""
        return clone_index(full, tmp_path)
