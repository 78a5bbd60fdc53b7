"""The `rapportsok` command as a person and a script meet it: in a real terminal (a pty) and in a pipe."""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import pty
import re
import shlex
import shutil
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from rapportsok.serving.cli import main
from rapportsok.settings import Settings

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
STOLTENBERG = "stoltenberg-rapporten-2010"


def where(settings: Settings) -> list[str]:
    return ["--corpus", str(settings.corpus), "--index", str(settings.index)]


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """The command with its output in pipes (not a terminal)."""
    environment = {k: v for k, v in os.environ.items() if k != "NO_COLOR" and "LLM" not in k} | (env or {})
    return subprocess.run(["rapportsok", *args], capture_output=True, text=True, timeout=300, env=environment)


def run_in_terminal(*args: str, columns: int = 70, env: dict[str, str] | None = None) -> str:
    """The command in a pseudo-terminal of the given width; what it showed there."""
    main, child = pty.openpty()
    fcntl.ioctl(child, termios.TIOCSWINSZ, struct.pack("HHHH", 40, columns, 0, 0))
    environment = {k: v for k, v in os.environ.items() if k not in ("NO_COLOR", "COLUMNS", "LINES")}
    environment |= {"TERM": "xterm-256color"} | (env or {})
    process = subprocess.Popen(["rapportsok", *args], stdin=child, stdout=child, stderr=child, env=environment)
    os.close(child)
    chunks = []
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            data = os.read(main, 65536)
        except OSError:  # the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    process.wait(timeout=60)
    os.close(main)
    assert process.returncode == 0
    return b"".join(chunks).decode("utf-8", errors="replace").replace("\r\n", "\n")


def test_piped_search_has_whole_sentences_and_no_trailing_spaces(full: Settings) -> None:
    out = run("search", "nalokson", *where(full))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines and not any(line != line.rstrip() for line in lines)
    assert "\x1b[" not in out.stdout  # no colour in a pipe
    hits = json.loads(run("search", "nalokson", "--json", *where(full)).stdout)["hits"]
    for hit in hits:  # each snippet stands whole on one line, after the document id on the title line
        assert any(hit["snippet"] in line for line in lines)
        assert any(line.startswith(f"{hit['rank']}. ") and line.endswith(hit["doc"]) for line in lines)


def test_full_prints_whole_paragraphs(full: Settings) -> None:
    out = run("search", "nalokson", "-k", "1", "--full", *where(full)).stdout
    text = json.loads(run("search", "nalokson", "-k", "1", "--json", *where(full)).stdout)["hits"][0]["text"]
    first = " ".join(text.split("\n\n")[0].split())
    assert first in out.splitlines()[2]


def test_a_nonsense_query_is_one_line_and_exit_0(full: Settings) -> None:
    out = run("search", "xyzzyqwerty", *where(full))
    assert out.returncode == 0 and out.stdout.strip() == "Ingen treff for «xyzzyqwerty»."
    assert json.loads(run("search", "xyzzyqwerty", "--json", *where(full)).stdout)["hits"] == []
    assert json.loads(run("search", "xyzzyqwerty", "--json", "--mode", "lexical", *where(full)).stdout)["hits"] == []


def test_in_a_terminal_output_is_coloured_and_wrapped_to_its_width(full: Settings) -> None:
    shown = run_in_terminal("search", "behandling av rusavhengige i fengsel", "-k", "3", *where(full), columns=70)
    assert "\x1b[" in shown  # colour by default in a terminal
    plain = ANSI.sub("", shown)
    assert "meld-st-5-2024-2025" in plain or STOLTENBERG in plain
    assert max(len(line) for line in plain.splitlines()) <= 70
    assert "\x1b[" not in run_in_terminal("search", "nalokson", "-k", "1", *where(full), env={"NO_COLOR": "1"})
    assert "\x1b[" not in run_in_terminal("search", "nalokson", "-k", "1", "--color", "never", *where(full))


def test_color_always_colours_a_pipe_and_a_bad_choice_is_an_error(full: Settings) -> None:
    assert "\x1b[" in run("search", "nalokson", "-k", "1", "--color", "always", *where(full)).stdout
    bad = run("search", "nalokson", "--color", "rainbow", *where(full))
    assert bad.returncode != 0 and bad.stderr.count("\n") == 1 and "--color" in bad.stderr


def test_docs_never_cuts_an_id(full: Settings) -> None:
    piped = run("docs", *where(full)).stdout.splitlines()
    assert piped[0].split("\t") == ["id", "tittel", "år", "passasjer"]
    ids = [line.split("\t")[0] for line in piped[1:]]
    assert STOLTENBERG in ids and "hoeringsinnspill-narkotikapolitiforening" in ids
    narrow = ANSI.sub("", run_in_terminal("docs", *where(full), columns=60))
    assert "hoeringsinnspill-narkotikapolitiforening" in narrow


def test_version_and_short_help() -> None:
    version = run("--version")
    assert version.returncode == 0 and re.fullmatch(r"rapportsok \S+\n", version.stdout)
    short = run("search", "-h")
    assert short.returncode == 0 and "--full" in short.stdout and "--color" in short.stdout
    assert all(f"miljøvariabel: RAPPORTSOK_{name}]" in short.stdout for name in ("CORPUS", "INDEX", "MODEL"))
    main_help = run("-h").stdout
    assert "miljøvariabel: RAPPORTSOK_DATABASE_URL]" in main_help
    assert all(name in main_help for name in ("RAPPORTSOK_MAX_FILE_MB", "RAPPORTSOK_LLM_URL", "RAPPORTSOK_LLM_TIMEOUT"))
    assert "--doc" in run("ask", "-h").stdout


def test_ask_within_a_document_cites_only_that_document(full: Settings) -> None:
    out = run("ask", "--doc", STOLTENBERG, "hva sier rapporten om sprøyterom", "--json", *where(full))
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["citations"] and {c["doc"] for c in data["citations"]} == {STOLTENBERG}
    assert {h["doc"] for h in data["hits"]} == {STOLTENBERG}
    text = run("ask", "--doc", STOLTENBERG, "hva sier rapporten om sprøyterom", *where(full)).stdout
    assert "[1]" in text and STOLTENBERG in text
    assert run("ask", "--doc", "finnes-ikke", "nalokson", *where(full)).returncode != 0


def test_a_search_imports_no_ingestion_code(full: Settings) -> None:
    """A cold search of a current index loads neither pypdf, SciPy, the formats' readers nor the ingestion code."""
    heavy = ("pypdf", "scipy", "docx", "odf", "lxml", "rapportsok.passages", "rapportsok.documents.pdf")
    script = (
        "import atexit, sys\n"
        f"atexit.register(lambda: print('LOADED', [m for m in {heavy!r} if m in sys.modules], file=sys.stderr))\n"
        "from rapportsok.serving.cli import main\n"
        f"sys.argv = ['rapportsok', 'search', 'nalokson', '--json', *{where(full)!r}]\n"
        "main()\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "LOADED []" in out.stderr


DEAD_DATABASE = "postgresql://127.0.0.1:1/rapportsok"  # nothing listens on port 1


def test_database_reaches_the_settings_without_touching_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("RAPPORTSOK_DATABASE_URL", raising=False)
    monkeypatch.chdir(tmp_path)  # no index folder here: without a database the error names that
    assert "index folder index does not exist" in run("search", "nalokson").stderr
    refused = run("--database", DEAD_DATABASE, "search", "nalokson")
    assert refused.returncode == 1 and refused.stderr.count("\n") == 1, refused.stderr
    assert refused.stderr.startswith("rapportsok: feil: cannot use the database") and "port 1 failed" in refused.stderr
    by_variable = run("search", "nalokson", env={"RAPPORTSOK_DATABASE_URL": DEAD_DATABASE.replace(":1/", ":2/")})
    assert "port 2 failed" in by_variable.stderr
    flag_first = run("--database", DEAD_DATABASE, "search", "nalokson", env={"RAPPORTSOK_DATABASE_URL": "x"})
    assert "port 1 failed" in flag_first.stderr

    monkeypatch.setattr(sys, "argv", ["rapportsok", "--database", DEAD_DATABASE, "search", "nalokson"])
    with pytest.raises(SystemExit) as exited:  # the same in this process, which then reads the environment
        main()
    assert exited.value.code == 1 and "port 1 failed" in capsys.readouterr().err
    assert "RAPPORTSOK_DATABASE_URL" not in os.environ and Settings.resolve().database is None


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"RAPPORTSOK_MAX_FILE_MB": "lots"}, "RAPPORTSOK_MAX_FILE_MB='lots' is not a positive number of megabytes"),
        (
            {"RAPPORTSOK_LLM_URL": "http://127.0.0.1:1/v1", "RAPPORTSOK_LLM_MODEL": "m", "RAPPORTSOK_LLM_TIMEOUT": "x"},
            "RAPPORTSOK_LLM_TIMEOUT must be a number of seconds",
        ),
    ],
)
def test_an_unusable_setting_is_one_line_and_a_failure(full: Settings, environment: dict, message: str) -> None:
    for command in (["search", "nalokson"], ["ask", "nalokson"], ["docs"]):
        out = run(*command, *where(full), env=environment)
        assert out.returncode == 1 and out.stdout == "" and out.stderr == f"rapportsok: feil: {message}\n"


def in_tmux(*args: str, settings: Settings, columns: int = 100) -> list[str]:
    """The command run in a real terminal (a tmux server of its own, `columns` wide), and the lines it
    showed there, trailing blanks dropped."""
    if not shutil.which("tmux"):
        pytest.skip("tmux is not installed")
    tmux = ["tmux", "-L", f"rapportsok-test-{os.getpid()}-{time.monotonic_ns()}"]  # a server of its own
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "PYTHONPATH", "HOME", "VIRTUAL_ENV")}
    environment = [f"{k}={v}" for k, v in keep.items()] + ["TERM=xterm-256color", "LANG=C.UTF-8"]
    command = shlex.join(["env", "-i", *environment, "rapportsok", *args, *where(settings)])
    script = f"{command}; echo; echo FERDIG-$?; sleep 600"
    subprocess.run([*tmux, "new-session", "-d", "-x", str(columns), "-y", "200", script], check=True)
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            shown = subprocess.run([*tmux, "capture-pane", "-p"], capture_output=True, text=True, check=True).stdout
            if re.search(r"^FERDIG-\d+$", shown, re.M):
                break
            time.sleep(0.3)
    finally:
        subprocess.run([*tmux, "kill-server"], capture_output=True)
    lines = [line.rstrip() for line in shown.rstrip().splitlines()]
    assert lines[-1] == "FERDIG-0", shown
    return lines[:-1]


def test_proposals_are_readable_at_100_columns(full: Settings) -> None:
    """Each proposal's headline wraps in its own column: one or two lines a row, the report named once."""
    shown = in_tmux("proposals", settings=full)
    assert shown[0].startswith("Stoltenberg-utvalget, Rapport om narkotika (2010)")
    assert max(len(line) for line in shown) <= 100
    rows = [line for line in shown if re.match(r"│ \d+ ", line)]
    assert len(rows) == 22
    first_lines = [i for i, line in enumerate(shown) if re.match(r"│ \d+ ", line)]
    heights = [b - a for a, b in itertools.pairwise(first_lines)]
    assert max(heights) <= 2, heights
    assert any("Etabler mottaks- og oppfølgingssentre over hele landet" in line for line in shown)


def test_continuation_lines_keep_their_indent(full: Settings) -> None:
    """Wrapped lines hang under their text: nothing but a numbered head starts at column 0."""
    for command in (["search", "behandling av rusavhengige i fengsel", "-k", "3"], ["followup", "9", "-k", "5"],
                    ["compare", "legemiddelassistert behandling", "-k", "2"],
                    ["ask", "Hvor mange døde av overdose i Norge i 2023?"]):
        shown = [line for line in in_tmux(*command, settings=full) if line.strip()]
        assert max(len(line) for line in shown) <= 100
        flush = [line for line in shown if not line.startswith(" ")]
        heads = re.compile(r"^(\d+\. |Forslag \d+:|Kilder$|\[\d+\] |\d+ (treff|rapporter) |svar på |I Norge |"
                           r"Helsedepartementet|Mandat|Meld\. St\.|Stoltenberg|Norsk Narkotika)")
        assert all(heads.match(line) for line in flush), (command, flush)


def test_every_printing_command_takes_color(full: Settings) -> None:
    for command in (["followup", "9", "-k", "1"], ["compare", "nalokson", "-k", "1"], ["proposals"], ["docs"]):
        assert "\x1b[" in run(*command, "--color", "always", *where(full)).stdout, command
        assert "\x1b[" not in run(*command, "--color", "never", *where(full)).stdout, command


def test_help_messages_and_errors_are_norwegian(full: Settings) -> None:
    helped = run("followup", "-h").stdout
    assert "Bruk:" in helped and "Vis denne hjelpen og avslutt." in helped and "Valg" in helped
    assert not re.search(r"\b(Usage|Options|Show this message|the|of)\b", helped)
    main_help = run("-h").stdout
    assert "Kommandoer" in main_help and not re.search(r"\b(Commands|search Norwegian)\b", main_help)
    unknown = run("search", "nalokson", "--fargerik", *where(full))
    assert unknown.returncode == 2 and unknown.stderr.startswith("rapportsok: feil: Ukjent valg")
    many = run("search", "nalokson", "-k", "mange", *where(full)).stderr
    assert many.startswith("rapportsok: feil: Ugyldig verdi for '-k': skriv et heltall")
    assert run("followup", "99", *where(full)).stderr == "rapportsok: feil: Ingen rapport har et forslag 99.\n"
    unknown_in_doc = run("followup", "99", "--doc", "stoltenberg-rapporten-2010", *where(full)).stderr
    assert unknown_in_doc.startswith("rapportsok: feil: Stoltenberg-utvalget, Rapport om narkotika (2010) har ikke")
    assert run("search", "  ", *where(full)).stderr == "rapportsok: feil: Skriv noe å søke etter.\n"


def test_no_source_cites_lines_and_no_report_mixes_pages_with_chapters(full: Settings) -> None:
    every = json.loads(run("passages", "--json", *where(full)).stdout)
    assert not any(re.search(r"\blinje", p["source"]) for p in every)  # «retningslinjer» is a word
    for doc in {p["doc"] for p in every}:
        paged = {" s. " in p["source"].replace(",", " ") for p in every if p["doc"] == doc and p["kind"] == "text"}
        assert len(paged) == 1, doc  # pages throughout, or chapters throughout
    asked = json.loads(run("ask", "Hvor mange døde av overdose i Norge i 2023?", "--json", *where(full)).stdout)
    assert asked["citations"] and not any(re.search(r"\blinje", c["source"]) for c in asked["citations"])
    text = run("search", "nalokson", "-k", "1", *where(full)).stdout
    assert text.startswith("1. Meld. St. 5 (2024–2025)  meld-st-5-2024-2025") and not re.search(r"\blinje", text)


def test_an_empty_search_within_a_document_names_it_and_what_to_try(full: Settings) -> None:
    out = run("search", "nalokson", "--doc", "rusreformen-2004", *where(full))
    assert out.stdout.strip() == "Ingen treff for «nalokson» i Helsedepartementet, Rusreformen (2004) (--doc)."
    assert "rapportsok search nalokson" in out.stderr and "rapportsok ask nalokson" in out.stderr


def test_a_search_naming_a_proposal_says_how_to_follow_it(full: Settings) -> None:
    out = run("search", "forslag 15", "-k", "1", *where(full))
    assert "rapportsok followup 15 --doc stoltenberg-rapporten-2010" in out.stderr
    assert "followup" not in run("search", "15-åringer", "-k", "1", *where(full)).stderr
