"""Text safe to put in a spreadsheet cell (CSV exports and the audit's CSV)."""

from __future__ import annotations


def cell_text(text: str) -> str:
    """Text for a spreadsheet cell: one starting with =, +, -, @ (or a tab or carriage
    return) is a formula to Excel and LibreOffice, so it gets a leading apostrophe (OWASP's
    advice on CSV injection)."""
    return f"'{text}" if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text
