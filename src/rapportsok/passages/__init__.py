"""Stage 2: the source lines of one document, cleaned and cut into passages along its own structure."""

from .cut import read_document

__all__ = ["read_document"]
