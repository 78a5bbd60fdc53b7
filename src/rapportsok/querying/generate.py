"""Generated answers from an OpenAI-compatible chat endpoint, with every citation checked against the passages.

Nothing is sent anywhere unless the caller passes LLMSettings (the CLI and the server pass
`Settings.llm`, set by RAPPORTSOK_LLM_URL and RAPPORTSOK_LLM_MODEL).
The model sees only the retrieved passages; its [n] markers must point at them and anything it
puts in quotation marks must stand word for word in a passage it cites, else the extractive
answer is used instead.
"""

from __future__ import annotations

import json
import re
import urllib.error
import urllib.request

from ..errors import LLMError
from ..records import Hit
from ..settings import LLMSettings
from ..text.sentences import CLAIM_BREAK, STOPS, split_sentences
from ..text.tokens import words
from .citations import NOT_FOUND, Answer, Citation

MAX_TOKENS = 400
MARKER = re.compile(r"\[(\d+(?:\s*[,;]\s*\d+)*)\]")
QUOTED = re.compile(r"«([^«»]{8,})»|“([^“”]{8,})”|\"([^\"]{8,})\"")
NOT_FOUND_REPLY = "IKKE_FUNNET"

SYSTEM_PROMPT = f"""Du svarer på spørsmål om norske rusmiddelpolitiske rapporter.
Bruk bare kildene du får, aldri annen kunnskap. Svar på norsk bokmål med høyst fem korte setninger.
Sett kildens nummer i hakeparentes, for eksempel [2], rett etter hver påstand.
Når du siterer ordrett, bruk «» og skriv av teksten nøyaktig slik den står i kilden.
Hvis kildene ikke svarer på spørsmålet, svar bare: {NOT_FOUND_REPLY}"""


def chat(settings: LLMSettings, messages: list[dict[str, str]]) -> str:
    """One chat completion (not streamed, temperature 0): the reply's text."""
    body = json.dumps(
        {"model": settings.model, "messages": messages, "temperature": 0, "max_tokens": MAX_TOKENS, "stream": False}
    ).encode()
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if settings.key:
        headers["Authorization"] = f"Bearer {settings.key}"
    request = urllib.request.Request(settings.endpoint, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=settings.timeout) as response:
            data = json.load(response)
    except urllib.error.HTTPError as exc:
        raise LLMError(f"{settings.endpoint} answered HTTP {exc.code}") from None
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise LLMError(f"cannot reach {settings.endpoint}: {getattr(exc, 'reason', exc)}") from None
    except ValueError:
        raise LLMError(f"{settings.endpoint} did not answer JSON") from None
    try:
        content = data["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError):
        raise LLMError(f"{settings.endpoint} answered without choices[0].message.content") from None
    if not isinstance(content, str):
        raise LLMError(f"{settings.endpoint} answered a non-text message")
    return content


def prompt(question: str, hits: list[Hit]) -> list[dict[str, str]]:
    """The chat messages: instructions, then the numbered passages and the question."""
    sources = "\n\n".join(f"[{i}] {h.passage.source()}\n{h.passage.text}" for i, h in enumerate(hits, start=1))
    return [
        {"role": "system", "content": SYSTEM_PROMPT},
        {"role": "user", "content": f"Kilder:\n\n{sources}\n\nSpørsmål: {question}"},
    ]


def generated_answer(settings: LLMSettings, question: str, hits: list[Hit], fallback: Answer) -> Answer:
    """The model's answer with checked citations, or the fallback (with a note saying why)."""
    try:
        reply = chat(settings, prompt(question, hits))
    except LLMError as exc:
        return _fallback(fallback, str(exc))
    method = f"llm:{settings.model}"
    if reply.strip().strip(".").upper() == NOT_FOUND_REPLY:
        return Answer(question, NOT_FOUND, [], fallback.hits, found=False, method=method)
    checked = check(reply, hits)
    if isinstance(checked, str):
        return _fallback(fallback, checked)
    text, citations = checked
    return Answer(question, text, citations, hits, found=True, method=method)


def _fallback(answer: Answer, why: str) -> Answer:
    return Answer(answer.question, answer.text, answer.citations, answer.hits, answer.found, answer.method,
                  answer.took_ms, answer.notes + [f"generated answer not used: {why}"])


def check(reply: str, hits: list[Hit]) -> tuple[str, list[Citation]] | str:
    """The reply with its markers renumbered to citations, or why it cannot be used.

    Markers that point at no passage are removed; a claim left without any marker is dropped;
    a quotation not found word for word in a passage its claim cites rejects the whole reply.
    """
    claims = [c.strip() for c in CLAIM_BREAK.split(" ".join(reply.split())) if c.strip()]
    numbers: dict[int, int] = {}  # passage position (1-based) -> citation number
    quotes: dict[int, list[str]] = {}
    kept: list[str] = []
    for claim in claims:
        cited = [n for group in MARKER.findall(claim) for n in map(int, re.split(r"\s*[,;]\s*", group))]
        valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(hits)]
        if not valid:
            continue  # unsupported (or pointing at nothing): not said
        for quoted in QUOTED.findall(claim):
            quote = next(q for q in quoted if q)
            if not any(_find(hits[n - 1].passage.text, quote) for n in valid):
                return f"quotation not found in the cited passages: «{quote[:80]}»"
        body = MARKER.sub("", claim).strip()
        body = re.sub(r"\s+([.,;:!?])", r"\1", body)
        for n in valid:
            numbers.setdefault(n, len(numbers) + 1)
            quotes.setdefault(n, []).append(body)
        stopped = body.endswith(tuple(STOPS))
        end = body[-1] if stopped else "."
        core = body[:-1].rstrip() if stopped else body
        kept.append(f"{core} {''.join(f'[{numbers[n]}]' for n in valid)}{end}")
    if not numbers:
        return "no claim cites a retrieved passage"
    citations = [
        Citation(number, hits[n - 1].passage, _quote_for(hits[n - 1].passage.text, quotes[n]))
        for n, number in sorted(numbers.items(), key=lambda item: item[1])
    ]
    return " ".join(kept), citations


def _find(text: str, quote: str) -> tuple[int, int] | None:
    """Where quote stands in text, ignoring differences in whitespace and a trailing full stop."""
    tokens = quote.strip().rstrip(".").split()
    if not tokens:
        return None
    found = re.search(r"\s+".join(map(re.escape, tokens)), text)
    return found.span() if found else None


def _quote_for(text: str, claims: list[str]) -> str:
    """A verbatim quote for a cited passage: what the claim quoted, else the sentence sharing most words with it."""
    for claim in claims:
        for quoted in QUOTED.findall(claim):
            span = _find(text, next(q for q in quoted if q))
            if span:
                return text[span[0] : span[1]]
    said = {w for claim in claims for w in words(claim)}
    best, best_overlap = None, -1
    for start, end in split_sentences(text):
        overlap = len(said & set(words(text[start:end])))
        if overlap > best_overlap:
            best, best_overlap = (start, end), overlap
    if best is None:
        return text.strip()
    return text[best[0] : best[1]]
