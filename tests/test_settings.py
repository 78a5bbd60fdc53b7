"""The settings object: every RAPPORTSOK_* variable read by Settings.resolve, a flag before its
variable, and a value that cannot be used refused there, in one line, before any work."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapportsok.errors import RapportsokError
from rapportsok.settings import DEFAULT_LLM_TIMEOUT, DEFAULT_MAX_FILE_MB, DEFAULT_MODEL, LLMSettings, Settings

ENVIRONMENT = {
    "RAPPORTSOK_CORPUS": "/data/rapporter",
    "RAPPORTSOK_INDEX": "/data/indeks",
    "RAPPORTSOK_MODEL": "intfloat/multilingual-e5-small",
    "RAPPORTSOK_DATABASE_URL": "postgresql://db.example/rapportsok",
    "RAPPORTSOK_MAX_FILE_MB": "2.5",
    "RAPPORTSOK_LLM_URL": " http://127.0.0.1:8080/v1 ",
    "RAPPORTSOK_LLM_MODEL": "qwen",
    "RAPPORTSOK_LLM_KEY": "secret",
    "RAPPORTSOK_LLM_TIMEOUT": "7.5",
    "RAPPORTSOK_OCR_LANGS": "nor+eng",
}


def test_resolve_reads_every_variable_of_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in ENVIRONMENT.items():
        monkeypatch.setenv(name, value)
    assert Settings.resolve() == Settings(
        corpus=Path("/data/rapporter"),
        index=Path("/data/indeks"),
        model="intfloat/multilingual-e5-small",
        database="postgresql://db.example/rapportsok",
        max_file_mb=2.5,
        llm=LLMSettings("http://127.0.0.1:8080/v1", "qwen", "secret", 7.5),
        ocr_langs="nor+eng",
    )
    assert Settings.resolve().max_file_bytes == 2_500_000


def test_a_flag_wins_over_its_variable() -> None:
    settings = Settings.resolve("korpus", "indeks", DEFAULT_MODEL, "postgresql://other/db", environ=ENVIRONMENT)
    assert (settings.corpus, settings.index, settings.model, settings.database) == (
        Path("korpus"), Path("indeks"), DEFAULT_MODEL, "postgresql://other/db"
    )
    assert settings.llm == Settings.resolve(environ=ENVIRONMENT).llm  # the variables without a flag still count


def test_without_variables_the_defaults() -> None:
    settings = Settings.resolve(environ={"RAPPORTSOK_LLM_MODEL": "qwen", "RAPPORTSOK_MAX_FILE_MB": ""})
    assert settings == Settings(Path("corpus"), Path("index"), DEFAULT_MODEL, None, DEFAULT_MAX_FILE_MB, None)
    assert settings.llm is None  # a model without a URL sends nothing
    with_url = Settings.resolve(environ={"RAPPORTSOK_LLM_URL": "http://h/v1", "RAPPORTSOK_LLM_MODEL": "m"})
    assert with_url.llm == LLMSettings("http://h/v1", "m", None, DEFAULT_LLM_TIMEOUT)


@pytest.mark.parametrize(
    ("environment", "message"),
    [
        ({"RAPPORTSOK_MAX_FILE_MB": "lots"}, "RAPPORTSOK_MAX_FILE_MB='lots' is not a positive number of megabytes"),
        ({"RAPPORTSOK_MAX_FILE_MB": "0"}, "RAPPORTSOK_MAX_FILE_MB='0' is not a positive number of megabytes"),
        ({"RAPPORTSOK_MAX_FILE_MB": "inf"}, "RAPPORTSOK_MAX_FILE_MB='inf' is not a positive number of megabytes"),
        (
            {"RAPPORTSOK_LLM_URL": "http://h/v1", "RAPPORTSOK_LLM_MODEL": "m", "RAPPORTSOK_LLM_TIMEOUT": "soon"},
            "RAPPORTSOK_LLM_TIMEOUT must be a number of seconds",
        ),
        ({"RAPPORTSOK_LLM_URL": "http://h/v1"}, "RAPPORTSOK_LLM_URL is set but RAPPORTSOK_LLM_MODEL is not"),
        ({"RAPPORTSOK_OCR_LANGS": "nor, eng"}, "RAPPORTSOK_OCR_LANGS='nor, eng' is not a list of tesseract languages"),
    ],
)
def test_an_unusable_value_is_refused_naming_its_variable(environment: dict[str, str], message: str) -> None:
    with pytest.raises(RapportsokError) as refused:
        Settings.resolve(environ=environment)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)
