"""The lowest part of the dashboard: the database the environment points at, and user text
made safe to show. Imports nothing of ``ui`` (``ui.auth`` and ``ui.state`` both use it)."""

from __future__ import annotations

import re

import streamlit as st

from analyzer.history.database import Database, open_database
from analyzer.history.datadir import database_url

_MARKDOWN = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def plain(text: str) -> str:
    """User text (names, notes) made inert for Markdown: shown as typed, never as markup."""
    return _MARKDOWN.sub(r"\\\1", text)


def database() -> Database:
    """The database the environment points at (opened once per URL)."""
    return _open(database_url())


@st.cache_resource(show_spinner=False)
def _open(url: str) -> Database:
    return open_database(url)
