"""English questions read in bokmål: their content words looked up in a domain glossary
(`english.tsv`: drug policy, health, welfare, justice and government terms), so that BM25 can
take part and the question can be embedded with the reports' own words.

e5-small places an English question far from the Norwegian passage that answers it, and the
reports never use the English words; a translated query meets both problems. No offline
English–Norwegian dictionary is kept on PyPI, so the glossary is written by hand from the field's
terminology (docs/ranking.md says how it is kept). Terms are matched by their English stems, two
words before one; a word the glossary lacks stays as typed (names, «LAR», cognates like «heroin»)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import Stemmer

GLOSSARY = Path(__file__).with_name("english.tsv")


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("english")


@lru_cache(maxsize=1)
def glossary() -> dict[tuple[str, ...], str]:
    """English term stems (one or two) -> bokmål words; entries for the same stems are joined."""
    from ..text.stopwords import STOPWORDS_ENGLISH

    entries: dict[tuple[str, ...], str] = {}
    for line in GLOSSARY.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        term, norwegian = line.split("\t")
        said = [w for w in term.lower().replace("-", " ").split() if w not in STOPWORDS_ENGLISH]
        key = tuple(_stemmer().stemWords(said))
        entries[key] = " ".join(dict.fromkeys(f"{entries.get(key, '')} {norwegian}".split()))
    return entries


def translated(words: list[str], only: set[str] | None = None) -> tuple[list[str], dict[str, str]]:
    """The words in bokmål where the glossary knows them (a two-word term first), else as they are;
    with only, just those words are looked up. Also the terms translated, each with its bokmål words."""
    terms = glossary()
    stems = _stemmer().stemWords(words)
    out: list[str] = []
    made: dict[str, str] = {}
    i = 0
    while i < len(words):
        for n in (2, 1):
            said = words[i : i + n]
            key = tuple(stems[i : i + n])
            if len(said) == n and key in terms and (only is None or only.issuperset(said)):
                out.append(made.setdefault(" ".join(said), terms[key]))
                i += n
                break
        else:
            out.append(words[i])
            i += 1
    return out, made
