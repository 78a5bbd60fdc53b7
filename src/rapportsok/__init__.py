"""Search and question answering over Norwegian drug-policy reports.

The library the CLI and the HTTP API both call, one module per stage:

    from rapportsok.settings import Settings
    from rapportsok.index import Index, build
    from rapportsok.search import search
    from rapportsok.answer import answer

    settings = Settings.resolve(corpus="corpus", index="index")
    build(settings)                       # incremental: embeds only new text
    index = Index.open(settings)
    search(index, "hva sier rapporten om nalokson", k=5).hits
    answer(index, "Hvor mange døde av overdose i Norge i 2023?").text
"""
