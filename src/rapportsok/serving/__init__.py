"""Stage 5: the CLI, the HTTP API and the web page, over the library."""


def package_version() -> str:
    """The installed package's version (the CLI's --version, the API's OpenAPI document)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapportsok")
    except PackageNotFoundError:
        return "unknown"
