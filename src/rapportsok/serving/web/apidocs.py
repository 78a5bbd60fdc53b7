"""The pieces of the API documentation page (templates/apidocs.html) that the OpenAPI spec's JSON
schemas and Markdown docstrings need, as markup built from escaped pieces."""

from __future__ import annotations

import re
from typing import Any

from markupsafe import Markup, escape

LIMITS = {
    "minLength": "minst tegn",
    "maxLength": "høyst tegn",
    "minimum": "minst",
    "maximum": "høyst",
    "default": "standard",
}


def schema_type(schema: dict[str, Any]) -> Markup:
    """A JSON schema as a short type expression: "string", "integer | null", "liste av Hit" (linked)."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return Markup('<a href="#schema-%s">%s</a>') % (name, name)
    if "anyOf" in schema:
        return Markup(" | ").join(schema_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return Markup(" | ").join(Markup("<code>%s</code>") % str(v) for v in schema["enum"])
    if schema.get("type") == "array":
        return "liste av " + schema_type(schema.get("items", {}))
    if "const" in schema:
        return Markup("<code>%s</code>") % str(schema["const"])
    return escape(str(schema.get("type", "any")))


def limits(schema: dict[str, Any]) -> str:
    """A parameter's bounds and default, in words."""
    return ", ".join(f"{label} {schema[key]}" for key, label in LIMITS.items() if key in schema)


def markdown(text: str, inline: bool = False) -> Markup:
    """The little Markdown that docstrings use: paragraphs, `code` and **bold**, escaped."""

    def spans(part: str) -> Markup:
        html = re.sub(r"`([^`]+)`", r"<code>\1</code>", str(escape(part)))
        return Markup(re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html))

    if inline:
        return spans(" ".join(text.split()))
    return Markup("").join(
        Markup("<p>%s</p>") % spans(" ".join(part.split())) for part in re.split(r"\n\s*\n", text) if part.strip()
    )
