"""Shared fixtures: the real corpus folder, a copy of the shipped index and a maker of small text-layer PDFs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fpdf import FPDF
from pypdf import PdfWriter
from serving import shared

from rapportsok.settings import Settings

CORPUS = Path(__file__).resolve().parent.parent / "corpus"

MakePdf = Callable[..., Path]


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """The project's real corpus (five .txt reports and metadata.json)."""
    return CORPUS


@pytest.fixture
def make_pdf() -> MakePdf:
    """make_pdf(path, pages, labels=None) writes one PDF page per string.

    `labels` maps a page index to the first printed page number of a decimal label range
    starting there (e.g. {0: 17} numbers the pages 17, 18, ...). Text must be Latin-1:
    the core PDF fonts cannot show other characters."""

    def make(path: Path, pages: list[str], labels: dict[int, int] | None = None) -> Path:
        pdf = FPDF()
        pdf.set_font("Helvetica", size=11)
        for text in pages:
            pdf.add_page()
            if text:
                pdf.multi_cell(0, 6, text)
        pdf.output(str(path))
        if labels:
            writer = PdfWriter(clone_from=path)
            starts = sorted(labels)
            for k, first in enumerate(starts):
                last = (starts[k + 1] if k + 1 < len(starts) else len(pages)) - 1
                writer.set_page_label(first, last, style="/D", start=labels[first])
            writer.write(path)
        return path

    return make


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A copy of the shipped corpus and index, one per test module (serving.shared)."""
    return shared("full", tmp_path_factory)
