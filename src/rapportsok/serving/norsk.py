"""The command line's own words in Norwegian: Typer's help headings, usage line and usage errors.

Typer translates its panel titles and notes through `gettext` (bound at import as its modules'
`_`, its panel titles read once at import); the Click it ships (typer._click) writes "Usage:", the
help option's text and its usage errors in English without such a hook. `install` binds Typer's
`_` to this catalogue, sets its titles, and gives the usage line and the help option their
Norwegian words; `usage_error` translates a usage error's one line. A message missing from the
catalogue stays as Typer wrote it."""

from __future__ import annotations

import importlib
import re
from typing import Any

MESSAGES = {
    "Usage:": "Bruk:",
    "Options": "Valg",
    "Arguments": "Argumenter",
    "Commands": "Kommandoer",
    "Show this message and exit.": "Vis denne hjelpen og avslutt.",
    "Error": "Feil",
    "Aborted.": "Avbrutt.",
    "Aborted!": "Avbrutt!",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "Se [blue]'{command_path} {help_option}'[/].",
    "[default: {}]": "[standard: {}]",
    "default: {default}": "standard: {default}",
    "[env var: {}]": "[miljøvariabel: {}]",
    "env var: {var}": "miljøvariabel: {var}",
    "[required]": "[påkrevd]",
    "required": "påkrevd",
    "(dynamic)": "(dynamisk)",
}
TYPER_CONSTANTS = {
    "DEFAULT_STRING": "[default: {}]",
    "ENVVAR_STRING": "[env var: {}]",
    "REQUIRED_LONG_STRING": "[required]",
    "ARGUMENTS_PANEL_TITLE": "Arguments",
    "OPTIONS_PANEL_TITLE": "Options",
    "COMMANDS_PANEL_TITLE": "Commands",
    "ERRORS_PANEL_TITLE": "Error",
    "ABORTED_TEXT": "Aborted.",
    "RICH_HELP": "Try [blue]'{command_path} {help_option}'[/] for help.",
}
OPTIONS_METAVAR = "[VALG]"
# A usage error's line as Typer's Click words it, and in Norwegian (applied in order, several may apply).
USAGE_ERRORS = [
    (r"^No such option: (.+?)(?: \(Possible options: (.+)\))?$", lambda m: f"Ukjent valg: {m[1]}"
     + (f" (mulige valg: {m[2]})" if m[2] else "")),
    (r"^No such command '(.+)'\.(?: Did you mean (.+)\?)?$", lambda m: f"Ukjent kommando «{m[1]}»."
     + (f" Mente du {m[2]}?" if m[2] else "")),
    (r"^Invalid value for (.+?): (.+)$", lambda m: f"Ugyldig verdi for {m[1]}: {m[2]}"),
    (r"^Invalid value: (.+)$", lambda m: f"Ugyldig verdi: {m[1]}"),
    (r"Value '(.+)' is not a valid (?:integer|int)\.", lambda m: f"«{m[1]}» er ikke et heltall."),
    (r"Value '(.+)' is not a valid (?:float|number)\.", lambda m: f"«{m[1]}» er ikke et tall."),
    (r"'(.+)' is not a valid (?:integer|int)\.", lambda m: f"«{m[1]}» er ikke et heltall."),
    (r"Input should be a valid integer[^.]*", lambda m: "skriv et heltall"),
    (r"Input should be a valid number[^.]*", lambda m: "skriv et tall"),
    (r"(\S+) is not in the range (.+)\.", lambda m: f"{m[1]} er utenfor området {m[2]}."),
    (r"'(.+)' is not one of (.+)\.", lambda m: f"«{m[1]}» er ikke en av {m[2]}."),
    (r"^Missing argument '(.+)'\.", lambda m: f"Mangler argumentet {m[1]}."),
    (r"^Missing option '(.+)'\.", lambda m: f"Mangler valget {m[1]}."),
    (r"^Missing parameter: (.+)$", lambda m: f"Mangler {m[1]}."),
    (r"^Option '(.+)' requires an argument\.$", lambda m: f"Valget {m[1]} trenger en verdi."),
    (r"^Option '(.+)' requires (\d+) arguments\.$", lambda m: f"Valget {m[1]} trenger {m[2]} verdier."),
    (r"^Option '(.+)' does not take a value\.$", lambda m: f"Valget {m[1]} tar ingen verdi."),
    (r"^Got unexpected extra argument\(s\) \((.+)\)$", lambda m: f"Uventede argumenter ({m[1]})"),
]


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def usage_error(message: str) -> str:
    """A usage error's line in Norwegian, where the catalogue knows its wording."""
    for pattern, words in USAGE_ERRORS:
        message = re.sub(pattern, words, message)
    return message


def install(app: Any, helping: bool) -> None:
    """Typer's words from the catalogue from now on, for `app`'s commands too (idempotent). Its help
    pages' module (typer.rich_utils, which loads Rich's Markdown and syntax highlighting: a fifth of
    a second) only when help is asked for (`helping`): a search does without it."""
    importlib.import_module("typer.core")._ = gettext  # type: ignore[attr-defined]
    if helping:
        rich_utils = importlib.import_module("typer.rich_utils")
        rich_utils._ = gettext  # type: ignore[attr-defined]
        for constant, english in TYPER_CONSTANTS.items():
            setattr(rich_utils, constant, gettext(english))
    formatting = importlib.import_module("typer._click.formatting")
    core = importlib.import_module("typer._click.core")
    if not getattr(formatting.HelpFormatter.write_usage, "norsk", False):
        write_usage, help_option = formatting.HelpFormatter.write_usage, core.Command.get_help_option

        def norwegian_usage(self: Any, prog: str, args: str = "", prefix: str | None = None) -> None:
            write_usage(self, prog, args, f"{gettext('Usage:')} " if prefix is None else prefix)

        def norwegian_help(self: Any, ctx: Any) -> Any:
            option = help_option(self, ctx)
            if option is not None:
                option.help = gettext(option.help)
            return option

        norwegian_usage.norsk = True  # type: ignore[attr-defined]
        formatting.HelpFormatter.write_usage = norwegian_usage
        core.Command.get_help_option = norwegian_help
    for command in app.registered_commands:
        command.options_metavar = OPTIONS_METAVAR
