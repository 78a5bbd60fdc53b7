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
router = APIRouter(responses={200: {"description": "Vellykket svar"}})


@router.get("/search", summary="Søk", response_model=SearchResponse, responses=ERRORS, tags=["søk"])
def search_route(
    index: Current,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="søket")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="antall passasjer")] = 10,
    doc: Annotated[list[str] | None, Query(description="bare disse dokumentene (id, kan gjentas)")] = None,
    mode: Annotated[
        Mode, Query(description="rangering: hybrid (kombinert), dense (semantisk) eller lexical (ordsøk)")
    ] = "hybrid",
) -> dict[str, Any]:
    """Rangerte passasjer for et søk: det samme objektet som `rapportsok search --json`."""
    return search(index, q, k=k, docs=doc, mode=mode).as_dict()


@router.get("/ask", summary="Spør", response_model=AnswerResponse, responses=ERRORS, tags=["søk"])
def ask_route(
    index: Current,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="spørsmålet")],
    k: Annotated[int, Query(ge=1, le=MAX_K, description="antall passasjer å svare fra")] = 5,
    doc: Annotated[list[str] | None, Query(description="svar bare fra disse dokumentene (id, kan gjentas)")] = None,
) -> dict[str, Any]:
    """Et svar med nummererte kilder: det samme objektet som `rapportsok ask --json`."""
    return answer(index, q, k=k, llm=index.settings.llm, docs=doc).as_dict()


@router.get("/documents", summary="Dokumentene", response_model=list[DocumentSummary], tags=["rapportene"])
def documents_route(index: Current) -> list[dict[str, Any]]:
    """Dokumentene i indeksen."""
    counts = index.passage_counts()
    return [_document_summary(d, counts[d.doc]) for d in index.documents]


@router.get(
    "/documents/{doc}",
    summary="Ett dokument",
    response_model=DocumentDetail,
    responses=ERRORS,
    tags=["rapportene"],
)
def document_route(index: Current, doc: str) -> dict[str, Any]:
    """Ett dokument med kapitlene og forslagene."""
    summary = _document_summary(index.document(doc), index.passage_counts()[doc])
    return summary | {"sections": _sections(index, doc), "proposals": [p.as_dict() for p in index.proposals(doc)]}


@router.get(
    "/passages/{passage_id}",
    summary="Én passasje",
    response_model=PassageDetail,
    responses=ERRORS,
    tags=["rapportene"],
)
def passage_route(index: Current, passage_id: str) -> dict[str, Any]:
    """Én passasje, med id-ene til naboene."""
    passage = index.passage(passage_id)
    before, after = index.neighbours(passage.passage_id)
    return passage.as_dict() | {"before": before, "after": after}


@router.get("/proposals", summary="Forslagene", response_model=list[Proposal], responses=ERRORS, tags=["rapportene"])
def proposals_route(
    index: Current, doc: Annotated[str | None, Query(description="bare dette dokumentet (id)")] = None
) -> list[dict[str, Any]]:
    """De nummererte forslagene («Forslag N») i rapportene."""
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


@router.get(
    "/files/{doc}.pdf",
    summary="Den opprinnelige PDF-en",
    response_class=FileResponse,
    responses=ERRORS,
    tags=["rapportene"],
)
def file_route(request: Request, index: Current, doc: str) -> FileResponse:
    """Den opprinnelige PDF-en til et dokument, bare for lesing (åpne den på en side med #page=N)."""
    path = original_pdf(request.app.state.settings.corpus, index.documents, doc)
    return FileResponse(path, media_type="application/pdf", content_disposition_type="inline")


@router.get(
    "/proposals/{doc}/{n}/followup",
    summary="Hva ble det av forslaget",
    response_model=FollowupResponse,
    responses=ERRORS,
    tags=["gjennom årene"],
)
def followup_route(
    index: Current, doc: str, n: int, k: Annotated[int, Query(ge=1, le=MAX_K, description="antall lenker")] = 5
) -> dict[str, Any]:
    """Hva ble det av et forslag: det samme objektet som `rapportsok followup --json --doc DOC N`.

    Hver lenke sier med `when` om dokumentet kom før forslaget eller etter."""
    return followup(index, doc, n, k).as_dict()


@router.get("/compare", summary="Per rapport", response_model=CompareResponse, responses=ERRORS, tags=["gjennom årene"])
def compare_route(
    index: Current,
    q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="spørsmålet")],
    k: Annotated[int, Query(ge=1, le=MAX_PER_DOC, description="høyst så mange passasjer per dokument")] = PER_DOC,
) -> dict[str, Any]:
    """Ett spørsmål gjennom årene: det samme objektet som `rapportsok compare --json`."""
    return compare(index, q, per_doc=k).as_dict()


@router.get("/health", summary="Status", response_model=Health, responses=ERRORS, tags=["tjenesten"])
def health_route(request: Request) -> dict[str, Any]:
    """Hvilket bygg av indeksen som brukes nå; 503 med en gang (fra serverens siste sjekk, høyst et
    sekund gammel) mens databasen er borte eller bygget ikke kan lastes."""
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
