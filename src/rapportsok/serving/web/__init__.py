"""The web page: server-rendered HTML (no script) over the same search the API answers with."""
