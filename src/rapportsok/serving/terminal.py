"""Where the `rapportsok` command writes: results on stdout; progress, warnings, notes and errors on stderr.

Output to a terminal is styled and wrapped to its width; output to a pipe or file is plain, one
paragraph a line, so quotes copied from it are whole sentences. Each command makes its own
`Output` from its --color option: nothing about the consoles is kept between invocations."""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rich.console import Console, ConsoleOptions, ConsoleRenderable, RenderHook
from rich.markup import escape
from rich.segment import Segment
from rich.text import Text

from ..errors import RapportsokError

if TYPE_CHECKING:
    from ..indexing.build import Progress as ProgressCallback

COLORS = ("auto", "always", "never")
# C0 controls but tab and newline, DEL and C1: in a document's text or a file's name they could clear the
# screen, retitle the window or hide text; shown as visible symbols instead (U+2400's control pictures)
NON_PRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """The text with every control character made visible (ESC as ␛), so that nothing a document
    holds acts on the terminal."""
    return NON_PRINTABLE.sub(lambda m: chr(0x2400 + ord(m[0])) if m[0] < " " else "\ufffd", text)


class _Printable:
    """Renders a renderable with its text made printable (the styles Rich adds are not text, so
    they stay)."""

    def __init__(self, renderable: Any) -> None:  # noqa: ANN401  (any Rich renderable)
        self.renderable = renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> Iterator[Segment]:
        for segment in console.render(self.renderable, options):
            yield segment if segment.control else Segment(printable(segment.text), segment.style)


class _PrintableHook(RenderHook):
    def process_renderables(self, renderables: list[ConsoleRenderable]) -> list[ConsoleRenderable]:
        return [_Printable(renderable) for renderable in renderables]


class Output:
    """The two consoles of one command, and the ways it prints besides its own results."""

    def __init__(self, color: str = "auto") -> None:
        """Wrapped and styled on a terminal, plain one-line paragraphs in a pipe; "never" (or the
        terminal convention NO_COLOR with "auto") writes no escape codes at all."""
        if color not in COLORS:
            raise RapportsokError(f"unknown --color {color!r}; choose one of {', '.join(COLORS)}")
        plain = color == "never" or (color == "auto" and bool(os.environ.get("NO_COLOR")))
        self.out, self.err = (
            Console(
                stderr=stderr,
                soft_wrap=not stream.isatty(),
                highlight=False,
                force_terminal=True if color == "always" else None,
                color_system=None if plain else "auto",
            )
            for stderr, stream in ((False, sys.stdout), (True, sys.stderr))
        )
        for console in (self.out, self.err):
            console.push_render_hook(_PrintableHook())

    def json(self, data: Any) -> None:
        """Indented JSON with the letters as they are (æøå, «»), never styled or wrapped."""
        sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=1) + "\n")

    @contextmanager
    def progress(self) -> Iterator[ProgressCallback]:
        """Progress bars on stderr, one per task of a build (reading scanned pages, embedding passages),
        each appearing only once there is something to do."""
        bar: dict[str, Any] = {}

        def update(done: int, total: int, task: str) -> None:
            if total == 0:
                return
            if not bar:
                from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

                bar["p"] = Progress(
                    TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                    console=self.err, transient=True,
                )
                bar["p"].start()
            if task not in bar:
                bar[task] = bar["p"].add_task(task, total=total)
            bar["p"].update(bar[task], completed=done, total=total)

        try:
            yield update
        finally:
            if bar:
                bar["p"].stop()

    def warn(self, warnings: list[str]) -> None:
        for warning in warnings:
            self.err.print(f"warning: {escape(warning)}", soft_wrap=True)

    def note(self, note: str) -> None:
        """Said after the command's output (e.g. that the index is behind), so that an error stays one line."""
        self.err.print(f"rapportsok: note: {escape(note)}", highlight=False, soft_wrap=True)

    def error(self, message: str) -> None:
        """One line, never wrapped, that a script can show as it is."""
        self.err.print(f"rapportsok: error: {escape(message)}", soft_wrap=True)

    def indented(self, text: Text) -> Any:
        """Indented by three spaces: wrapped lines keep the indent on a terminal; one line in a pipe."""
        if not self.out.is_terminal:
            return Text("   ") + text
        from rich.padding import Padding

        return Padding(text, (0, 0, 0, 3), expand=False)

    def table(self, columns: list[str], rows: list[list[str]], whole: int = 0) -> None:
        """A table on a terminal (the first `whole` columns never cut or wrapped); tab-separated lines in a pipe."""
        if not self.out.is_terminal:
            sys.stdout.writelines(printable("\t".join(row)) + "\n" for row in [columns, *rows])
            return
        from rich.table import Table

        table = Table()
        for i, name in enumerate(columns):
            widest = max((len(row[i]) for row in rows), default=0)
            table.add_column(name, no_wrap=i < whole, min_width=widest if i < whole else None, overflow="fold")
        for row in rows:
            table.add_row(*map(escape, row))
        self.out.print(table)


def paragraphs(text: str) -> list[str]:
    """The text's paragraphs (split at blank lines), each on one line."""
    return [" ".join(part.split()) for part in text.split("\n\n") if part.strip()]
