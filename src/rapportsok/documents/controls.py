"""Control characters are never text: removed from everything read, so that no escape sequence
reaches a terminal and no NUL a database (PostgreSQL refuses it in text)."""

from __future__ import annotations

import re

# C0 and C1 control characters and DEL, but tab and newline (lines are split at the other breaks)
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def plain(text: str) -> str:
    """The text without control characters."""
    return CONTROL.sub("", text)


def escaped(text: str) -> str:
    """The text with control characters shown as escapes (\\x1b), for names in messages."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
