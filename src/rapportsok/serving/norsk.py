"""The command line's own words in Norwegian: Click's and Typer's help headings, usage errors and hints.

Click and Typer translate every message they print through `gettext` (their i18n hook, bound at
import as each module's `_` and `ngettext`); `install` binds those names to this catalogue instead,
so that help, usage errors and hints read in the same language as the results. Typer reads its
panel titles once at import, so they are set here too. A message missing from the catalogue stays
as Click wrote it."""

from __future__ import annotations

import importlib

MESSAGES = {
    "Usage:": "Bruk:",
    "Options": "Valg",
    "Arguments": "Argumenter",
    "Commands": "Kommandoer",
    "Positional arguments": "Argumenter",
    "Show this message and exit.": "Vis denne hjelpen og avslutt.",
    "Show the version and exit.": "Vis versjonen og avslutt.",
    "Error": "Feil",
    "Error: {message}": "Feil: {message}",
    "Aborted!": "Avbrutt!",
    "Aborted.": "Avbrutt.",
    "Try '{command} {option}' for help.": "Se '{command} {option}'.",
    "Try [blue]'{command_path} {help_option}'[/] for help.": "Se [blue]'{command_path} {help_option}'[/].",
    "[default: {}]": "[standard: {}]",
    "default: {default}": "standard: {default}",
    "[env var: {}]": "[miljøvariabel: {}]",
    "env var: {var}": "miljøvariabel: {var}",
    "[required]": "[påkrevd]",
    "required": "påkrevd",
    "(dynamic)": "(dynamisk)",
    "Missing argument": "Mangler argumentet",
    "Missing option": "Mangler valget",
    "Missing parameter": "Mangler parameteren",
    "Missing command.": "Mangler kommando.",
    "Missing parameter: {param_name}": "Mangler parameteren {param_name}",
    "No such option: {name}": "Ukjent valg: {name}",
    "No such option {name!r}.": "Ukjent valg {name!r}.",
    "No such command {name!r}.": "Ukjent kommando {name!r}.",
    "Option {name!r} requires an argument.": "Valget {name!r} trenger en verdi.",
    "Option {name!r} requires {nargs} arguments.": "Valget {name!r} trenger {nargs} verdier.",
    "Option {name!r} does not take a value.": "Valget {name!r} tar ingen verdi.",
    "Invalid value: {message}": "Ugyldig verdi: {message}",
    "Invalid value for {param_hint}: {message}": "Ugyldig verdi for {param_hint}: {message}",
    "{value!r} is not a valid {number_type}.": "{value!r} er ikke et gyldig {number_type}.",
    "integer": "heltall",
    "float": "tall",
    "{value} is not in the range {range}.": "{value} er utenfor området {range}.",
    "{value!r} is not one of {choices}.": "{value!r} er ikke en av {choices}.",
    "{value!r} is not {choice}.": "{value!r} er ikke {choice}.",
    "Choose from:\n\t{choices}": "Velg blant:\n\t{choices}",
    "Got unexpected extra argument ({args})": "Uventet ekstra argument ({args})",
    "Got unexpected extra arguments ({args})": "Uventede ekstra argumenter ({args})",
    "Did you mean {possibility}?": "Mente du {possibility}?",
    "(Did you mean one of: {possibilities}?)": "(Mente du en av: {possibilities}?)",
}
MODULES = ("click.core", "click.decorators", "click.exceptions", "click.types", "click.parser",
           "click.formatting", "typer.core", "typer.main", "typer.rich_utils")
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


def gettext(message: str) -> str:
    return MESSAGES.get(message, message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return gettext(singular if n == 1 else plural)


def install() -> None:
    """Click's and Typer's messages from the catalogue from now on (idempotent)."""
    for name in MODULES:
        module = importlib.import_module(name)
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
    rich_utils = importlib.import_module("typer.rich_utils")
    for constant, english in TYPER_CONSTANTS.items():
        setattr(rich_utils, constant, gettext(english))
