"""Readers for the formats that carry their own structure (Word, OpenDocument, web pages, Markdown).

Each reader turns a file's bytes into a `Source` (outline.py): one line per paragraph, headings and
footnotes marked as the PDF reader marks them, so that the same structure and passages follow."""
