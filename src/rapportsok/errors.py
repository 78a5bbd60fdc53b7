"""Errors a user can act on: the CLI prints them as one line, the API as a 4xx."""

import re


class RapportsokError(Exception):
    """Base for every error caused by input, configuration or state, not by a bug."""

    status = 400  # the HTTP status the API answers with

    def __init__(self, message: str, norwegian: str | None = None) -> None:
        super().__init__(message)
        self.norwegian = norwegian  # the same for the web page's Norwegian reader, where a person can cause it


class CorpusError(RapportsokError):
    """The corpus folder is missing or holds nothing readable."""


class IndexMissing(RapportsokError):
    """There is no usable index where one was expected."""

    status = 503


class IndexDamaged(IndexMissing):
    """A build whose files cannot be read or do not agree; `rapportsok index` replaces it."""

    def __init__(self, build: object, cause: Exception | str) -> None:
        reason = (str(cause).splitlines() or [""])[0] or type(cause).__name__
        super().__init__(f"index build {build} is damaged ({reason}); rebuild it with `rapportsok index`")


class WriteFailed(RapportsokError):
    """The index folder cannot be created or written (a file, read-only, no permission)."""

    status = 503


class ModelMismatch(RapportsokError):
    """The index was built by another embedding model than the one asked for."""

    status = 409


class BuildLocked(RapportsokError):
    """Another process is building this index right now."""

    status = 409


class QueryError(RapportsokError):
    """The query or its options are unusable (empty, too long, unknown mode or document)."""

    status = 422


class NotFound(RapportsokError):
    """An unknown document or passage id."""

    status = 404


class DatabaseError(RapportsokError):
    """The database cannot be reached or lacks what the engine needs (pgvector); its message never
    holds a password, whatever the driver quoted."""

    status = 503

    def __init__(self, message: str, norwegian: str | None = None) -> None:
        super().__init__(mask_secrets(message), norwegian and mask_secrets(norwegian))


class DatabaseUnavailable(DatabaseError):
    """The database does not answer or the connection was lost: worth trying again."""


URL_PASSWORD = re.compile(r"(\w+://[^:/@\s]*:)\S*@")  # scheme://user:password@host
KEY_PASSWORD = re.compile(r"((?:password|passwd|pwd)\s*=\s*)('(?:[^'\\]|\\.)*'|\S+)", re.I)  # in a conninfo


def mask_secrets(text: str) -> str:
    """Text with the password of any URL or conninfo in it replaced by ***."""
    return KEY_PASSWORD.sub(r"\1***", URL_PASSWORD.sub(r"\1***@", text))


class LLMError(RapportsokError):
    """The endpoint could not be reached or answered something unusable."""

    status = 502
