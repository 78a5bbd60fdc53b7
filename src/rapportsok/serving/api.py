"""The JSON routes (docs/http.md): each answers the same object as the CLI's `--json`, shaped by schemas.py."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse

from ..documents.files import PDF_SUFFIXES
from ..errors import NotFound
from ..querying.answer import answer
from ..querying.compare import MAX_PER_DOC, PER_DOC, compare
from ..querying.followup import followup
from ..querying.index import Index
from ..querying.search import MAX_K, MAX_QUERY_CHARS, Mode, search
from ..records import Document, Proposal
from .schemas import (
    ERRORS,
    AnswerResponse,
    CompareResponse,
    DocumentDetail,
    DocumentSummary,
    FollowupResponse,
    Health,
    PassageDetail,
    SearchResponse,
)


def current(request: Request) -> Index:
    """The build served right now; a request keeps it to the end, whatever is swapped in meanwhile."""
    return request.app.state.live.served()


Current = Annotated[Index, Depends(current)]
router = APIRouter()


@router.get("/search", response_model=SearchResponse, responses=ERRORS, tags=["search"])
def search_route(
    index: Current,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the query")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="number of passages")] = 10,
    doc: Annotated[list[str] | None, Query(description="only these document ids (repeatable)")] = None,
    mode: Annotated[Mode, Query(description="ranking")] = "hybrid",
) -> dict[str, Any]:
    """Ranked passages for a query: the same object as `rapportsok search --json`."""
    return search(index, q, k=k, docs=doc, mode=mode).as_dict()


@router.get("/ask", response_model=AnswerResponse, responses=ERRORS, tags=["search"])
def ask_route(
    index: Current,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the question")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="passages to answer from")] = 5,
    doc: Annotated[list[str] | None, Query(description="answer only from these document ids (repeatable)")] = None,
) -> dict[str, Any]:
    """An answer with numbered citations: the same object as `rapportsok ask --json`."""
    return answer(index, q, k=k, llm=index.settings.llm, docs=doc).as_dict()


@router.get("/documents", response_model=list[DocumentSummary], tags=["corpus"])
def documents_route(index: Current) -> list[dict[str, Any]]:
    """The indexed documents."""
    counts = index.passage_counts()
    return [_document_summary(d, counts[d.doc]) for d in index.documents]


@router.get("/documents/{doc}", response_model=DocumentDetail, responses=ERRORS, tags=["corpus"])
def document_route(index: Current, doc: str) -> dict[str, Any]:
    """One document with its sections and proposals."""
    summary = _document_summary(index.document(doc), index.passage_counts()[doc])
    return summary | {"sections": _sections(index, doc), "proposals": [p.as_dict() for p in index.proposals(doc)]}


@router.get("/passages/{passage_id}", response_model=PassageDetail, responses=ERRORS, tags=["corpus"])
def passage_route(index: Current, passage_id: str) -> dict[str, Any]:
    """One passage with its neighbours' ids."""
    passage = index.passage(passage_id)
    before, after = index.neighbours(passage.passage_id)
    return passage.as_dict() | {"before": before, "after": after}


@router.get("/proposals", response_model=list[Proposal], responses=ERRORS, tags=["corpus"])
def proposals_route(
    index: Current, doc: Annotated[str | None, Query(description="only this document id")] = None
) -> list[dict[str, Any]]:
    """The numbered proposals ("Forslag N") found in the corpus."""
    return [p.as_dict() for p in index.proposals(doc)]


def original_pdf(corpus_dir: Path, documents: list[Document], doc: str) -> Path:
    """The PDF file of an indexed document, to be served read-only; NotFound for anything else.

    Only a document of the index whose file is a .pdf lying directly in the corpus folder (a
    symlink out of it does not count), so no request can reach another file."""
    found = next((d for d in documents if d.doc == doc and Path(d.path).suffix.lower() in PDF_SUFFIXES), None)
    folder = Path(corpus_dir).resolve()
    path = (folder / found.path).resolve() if found else None
    if path is None or path.parent != folder or not path.is_file():
        raise NotFound(f"no PDF in the corpus for document {doc!r}")
    return path


@router.get("/files/{doc}.pdf", response_class=FileResponse, responses=ERRORS, tags=["corpus"])
def file_route(request: Request, index: Current, doc: str) -> FileResponse:
    """The original PDF of a document in the corpus, read-only (open it at a page with #page=N)."""
    path = original_pdf(request.app.state.settings.corpus, index.documents, doc)
    return FileResponse(path, media_type="application/pdf", content_disposition_type="inline")


@router.get("/proposals/{doc}/{n}/followup", response_model=FollowupResponse, responses=ERRORS, tags=["over the years"])
def followup_route(
    index: Current, doc: str, n: int, k: Annotated[int, Query(ge=1, le=MAX_K, description="number of links")] = 5
) -> dict[str, Any]:
    """What became of a proposal: the same object as `rapportsok followup --json --doc DOC N`."""
    return followup(index, doc, n, k).as_dict()


@router.get("/compare", response_model=CompareResponse, responses=ERRORS, tags=["over the years"])
def compare_route(
    index: Current,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the question")],
    k: Annotated[int, Query(ge=1, le=MAX_PER_DOC, description="passages per document, at most")] = PER_DOC,
) -> dict[str, Any]:
    """One question over the years: the same object as `rapportsok compare --json`."""
    return compare(index, q, per_doc=k).as_dict()


@router.get("/health", response_model=Health, responses=ERRORS, tags=["service"])
def health_route(request: Request) -> dict[str, Any]:
    """Which build is served; 503 at once (from the server's last look, at most a second old) while
    the database is away or the current build cannot be loaded."""
    index = request.app.state.live.served()
    return {
        "status": "ok",
        "passages": len(index.passages),
        "model": index.meta.model,
        "built_at": index.meta.built_at,
        "build": index.build_id,
    }


def _document_summary(document: Document, passages: int) -> dict[str, Any]:
    return {
        "doc": document.doc,
        "title": document.title,
        "year": document.year,
        "kind": document.kind,
        "passages": passages,
    }


def _sections(index: Index, doc: str) -> list[dict[str, Any]]:
    """The document's sections in order, each with where it starts and how many passages it has."""
    sections: list[dict[str, Any]] = []
    for passage in index.doc_passages(doc):
        if passage.kind == "footnote" and sections:
            sections[-1]["passages"] += 1
            continue
        if not sections or sections[-1]["section"] != passage.section:
            start = {"section": passage.section, "page": passage.page, "passage_id": passage.passage_id}
            sections.append(start | {"passages": 0})
        sections[-1]["passages"] += 1
    return sections
