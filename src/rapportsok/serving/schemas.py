"""The JSON the API answers with, declared once: every field the library's `as_dict` gives, in its order.

The models forbid fields they do not declare, so a field added to an `as_dict` without being
declared here fails the response (and the tests) instead of passing through undocumented; the
order of the fields is the order of the keys, which the API keeps equal to `--json`'s."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..records import Proposal


class Declared(BaseModel):
    """A response object whose every field is listed in /openapi.json."""

    model_config = ConfigDict(extra="forbid")


class Ranked(Declared):
    rank: int = Field(description="plass i rangeringen, fra 1")
    score: float = Field(description="høyere er bedre")


class Passage(Declared):
    passage_id: str = Field(description="stabil mellom byggene så lenge passasjens tekst er uendret")
    doc: str = Field(description="dokumentets id: filnavnet i rapportmappen uten endelse")
    title: str
    section: str | None = Field(description='kapittel, f.eks. "4.3 Ny handlingsplan mot overdoser"')
    page: int | None = Field(description="trykt sidetall der passasjen begynner, når hele dokumentet har sidetall")
    proposal: int | None = Field(description="forslagets nummer når passasjen hører til et forslag")
    text: str = Field(description="hele passasjens tekst slik den er indeksert")
    source: str = Field(description="kilden å sitere: rapport og år, kapittel, forslag, sider der dokumentet har dem")
    line_start: int | None = Field(description="første linje i en tekstfil (for feilsøking, ikke for sitering)")
    line_end: int | None = Field(description="siste linje i en tekstfil (for feilsøking, ikke for sitering)")
    kind: str = Field(description='"text", eller "footnote" for en fotnote')
    page_end: int | None = Field(description="trykt sidetall der passasjen slutter")
    page_label: str | None = Field(description='trykt betegnelse på første side ("iii", "59")')
    page_end_label: str | None = Field(description="trykt betegnelse på siste side")
    sheet: int | None = Field(description="siden i PDF-filen (fra 1) der passasjen begynner")
    link: str | None = Field(
        description='hvor passasjens avsnitt står på nettet: url-en i metadata.json med "#kap4-2", '
        'eller "side.html#kap4-2" for en nettside uten url',
    )


class Hit(Passage, Ranked):  # rank and score first, as the CLI prints them
    weak: bool = Field(description="over relevansgrensen, men uten de fleste søkeordene")
    snippet: str = Field(description="passasjens setninger som passer best, på én linje")


class SearchResponse(Declared):
    query: str
    mode: str
    took_ms: float
    hits: list[Hit]
    suggestion: str | None = Field(description="«Mente du …?»: søket med ukjente ord byttet mot ord fra rapportene")
    corrections: dict[str, str] = Field(description="hvert søkeord indeksen mangler, og ordet som ble søkt i stedet")
    proposals: list[int] = Field(description="forslagsnumrene søket nevner; passasjene deres kommer først")
    empty: str | None = Field(description='hvorfor det ikke er treff: "filter" (de valgte dokumentene) eller "nothing"')


class Citation(Declared):
    n: int
    passage_id: str
    doc: str
    title: str
    section: str | None
    page: int | None = Field(description="trykt sidetall der sitatet står")
    proposal: int | None
    quote: str = Field(description="ordrett tekst fra passasjen")
    source: str = Field(description="kilden til sitatet: sitatets egen side, ellers kapittel")
    page_label: str | None = Field(description="trykt betegnelse på sitatets første side")
    page_end_label: str | None = Field(description="trykt betegnelse på sitatets siste side")
    sheet: int | None = Field(description="siden i PDF-filen (fra 1) der sitatet begynner")
    link: str | None = Field(description="hvor sitatets avsnitt står på nettet (som et treffs link)")


class AnswerResponse(Declared):
    question: str
    answer: str = Field(description="svaret, med [n] ved hver påstand")
    citations: list[Citation]
    hits: list[Hit]
    found: bool = Field(description="false når passasjene ikke svarer på spørsmålet")
    method: str = Field(description='"extractive" (sitater) eller "llm:<modell>"')
    took_ms: float


class DocumentSummary(Declared):
    doc: str
    title: str
    year: int | None
    kind: str | None
    passages: int


class Section(Declared):
    section: str | None = Field(description="null for tekst før første overskrift")
    page: int | None = Field(description="siden der kapittelet begynner")
    passage_id: str = Field(description="kapittelets første passasje")
    passages: int


class DocumentDetail(DocumentSummary):
    sections: list[Section]
    proposals: list[Proposal]


class PassageDetail(Passage):
    before: str | None = Field(description="id for forrige passasje i samme dokument")
    after: str | None = Field(description="id for neste passasje i samme dokument")


class FollowupLink(Hit):
    year: int | None = Field(description="året til dokumentet lenken peker til")
    shared: list[str] = Field(description="ord passasjen deler med forslaget")
    when: Literal["before", "after"] = Field(
        description='"after" når dokumentet er fra forslagets år eller senere («Fulgt opp i»), '
        '"before" når det er eldre («Omtalt før forslaget»)'
    )
    sentence: str = Field(description="passasjens setning som ligner mest på forslaget, på én linje")
    outcome: bool = Field(description="true når setningen sier hva som ble av forslaget («ble ikke fulgt opp»)")


class FollowupResponse(Declared):
    doc: str = Field(description="dokumentet forslaget står i")
    proposal: int
    headline: str
    year: int | None = Field(description="året til dokumentet forslaget står i")
    links: list[FollowupLink] = Field(
        description="passasjer i andre dokumenter som tar opp forslaget, best først (før og etter forslaget: se `when`)"
    )


class CompareColumn(Declared):
    doc: str
    title: str
    year: int | None
    headline: str = Field(description="setningen i dokumentets passasjer som ligger nærmest spørsmålet")
    hits: list[Hit]


class CompareResponse(Declared):
    query: str
    took_ms: float
    documents: list[CompareColumn] = Field(description="dokumentene som tar opp spørsmålet, etter år")


class Health(Declared):
    status: Literal["ok"]
    passages: int
    model: str
    built_at: str
    build: str = Field(description="id for bygget som brukes nå")


class ErrorDetail(BaseModel):
    detail: str = Field(description="hva som er galt, på én linje")


class ValidationDetail(BaseModel):
    detail: str | list[dict[str, Any]] = Field(description="hva som er galt: én linje, eller listen over ugyldige felt")


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "ukjent dokument, passasje eller forslag"},
    409: {"model": ErrorDetail, "description": "indeksen ble bygget med en annen vektormodell"},
    422: {"model": ValidationDetail, "description": "ugyldige parametre"},
    503: {"model": ErrorDetail, "description": "ingen brukbar indeks (ingen ennå, eller skadet)"},
}
