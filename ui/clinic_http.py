"""Clinic mode's HTTP rules, as ASGI middleware in front of Streamlit (``clinic_app.py``).

Streamlit answers every browser request itself: its page, its static files, its media files
(downloads), its upload endpoint, its metrics and its websocket. In clinic mode every answer
carries the security headers and the page sets a random browser cookie; the metrics
endpoint is closed; a media file (a prepared download) is given only to a browser whose
cookie belongs to a signed-in session, so a URL alone fetches nothing; an upload is taken
only into a signed-in session, from that session's browser; and a websocket that asks to
resume a signed-in session from another browser gets a new session (the sign-in form).
``signed_in`` (Streamlit session id -> its browser's cookie) is kept by ``ui.auth``.
"""

from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable, MutableMapping
from http.cookies import SimpleCookie
from typing import Any

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

HEADERS = (
    (b"strict-transport-security", b"max-age=31536000"),
    # Streamlit's page needs its own inline scripts and styles; what it never needs is to be
    # framed by another site, plugins, or forms and a base URL pointing elsewhere.
    (
        b"content-security-policy",
        b"frame-ancestors 'none'; object-src 'none'; base-uri 'self'; form-action 'self'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
COOKIE = "analyzer_browser"
CLOSED_PREFIXES = ("/_stcore/metrics",)
MEDIA_PREFIX = "/media/"
UPLOAD_PREFIX = "/_stcore/upload_file/"

#: The Streamlit sessions signed in now, each with its browser's cookie (``ui.auth``).
signed_in: dict[str, str | None] = {}
#: The browser cookies this process has set on its page.
_issued: set[str] = set()


def _header(scope: Scope, wanted: bytes) -> str | None:
    for name, value in scope.get("headers", []):
        if name == wanted:
            return value.decode("latin-1")
    return None


def _cookie(scope: Scope) -> str | None:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            jar.load(value.decode("latin-1"))
            if COOKIE in jar:
                return jar[COOKIE].value
    return None


def refusal(scope: Scope) -> int | None:
    """The status that refuses this HTTP request, or None to let Streamlit answer it."""
    path = scope.get("path", "")
    cookie = _cookie(scope)
    if path.startswith(CLOSED_PREFIXES):
        return 404
    if path.startswith(MEDIA_PREFIX) and (cookie is None or cookie not in signed_in.values()):
        return 404
    if path.startswith(UPLOAD_PREFIX) and scope.get("method") in {"PUT", "POST"}:
        session_id = path.removeprefix(UPLOAD_PREFIX).split("/", 1)[0]
        if session_id not in signed_in or cookie != signed_in[session_id]:
            return 403
    return None


def without_foreign_resume(scope: Scope) -> Scope:
    """A websocket's scope, without its request to resume a signed-in session when it comes
    from another browser (Streamlit passes the session id as the third "subprotocol"): such a
    client gets a new session, and so the sign-in form, not the signed-in one."""
    protocols = _header(scope, b"sec-websocket-protocol")
    if not protocols:
        return scope
    entries = [entry.strip() for entry in protocols.split(",")]
    if len(entries) < 3 or entries[2] not in signed_in:
        return scope
    if signed_in[entries[2]] is not None and signed_in[entries[2]] == _cookie(scope):
        return scope
    headers = [
        (name, value) for name, value in scope["headers"] if name != b"sec-websocket-protocol"
    ]
    headers.append((b"sec-websocket-protocol", ", ".join(entries[:2]).encode("latin-1")))
    return {**scope, "headers": headers}


class ClinicHttp:
    """The ASGI middleware: refusals first, then Streamlit, every answer with ``HEADERS``."""

    def __init__(self, app: Callable[[Scope, Receive, Send], Awaitable[None]]) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.app(without_foreign_resume(scope), receive, send)
            return
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = refusal(scope)
        new_cookie = None
        if status is None and _cookie(scope) not in _issued:
            new_cookie = secrets.token_urlsafe(32)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    h
                    for h in message.get("headers", [])
                    if h[0].lower() not in {name for name, _ in HEADERS}
                ]
                headers += list(HEADERS)
                if new_cookie is not None and message.get("status") == 200:
                    _issued.add(new_cookie)
                    headers.append(
                        (
                            b"set-cookie",
                            f"{COOKIE}={new_cookie}; Path=/; Secure; "
                            "HttpOnly; SameSite=Strict".encode(),
                        )
                    )
                message = {**message, "headers": headers}
            await send(message)

        if status is not None:
            await with_headers(
                {
                    "type": "http.response.start",
                    "status": status,
                    "headers": [(b"content-type", b"text/plain")],
                }
            )
            await send({"type": "http.response.body", "body": b"Not here.\n"})
            return
        await self.app(scope, receive, with_headers)
