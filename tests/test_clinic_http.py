"""Clinic mode's HTTP rules (``ui/clinic_http.py``) on requests made by hand; the real
server is exercised by ``test_clinic.py::test_clinic_http_headers_metrics_downloads_and_...``
in a browser."""

from __future__ import annotations

import pytest

from ui import clinic_http
from ui.clinic_http import COOKIE, refusal, without_foreign_resume


@pytest.fixture
def signed_in(monkeypatch):
    sessions = {"session-a": "cookie-a"}
    monkeypatch.setattr(clinic_http, "signed_in", sessions)
    return sessions


def request(path: str, method: str = "GET", cookie: str | None = None, **headers) -> dict:
    pairs = [(b"cookie", f"{COOKIE}={cookie}".encode())] if cookie else []
    pairs += [(k.replace("_", "-").encode(), v.encode()) for k, v in headers.items()]
    return {"type": "http", "path": path, "method": method, "headers": pairs}


def protocols(scope: dict) -> str:
    return next(v.decode() for k, v in scope["headers"] if k == b"sec-websocket-protocol")


def test_metrics_closed_media_and_uploads_only_for_the_signed_in_browser(signed_in):
    assert refusal(request("/_stcore/metrics", cookie="cookie-a")) == 404
    assert refusal(request("/media/f.csv")) == 404
    assert refusal(request("/media/f.csv", cookie="cookie-b")) == 404
    assert refusal(request("/media/f.csv", cookie="cookie-a")) is None
    upload = "/_stcore/upload_file/session-a/file-1"
    assert refusal(request(upload, "PUT", cookie="cookie-a")) is None
    assert refusal(request(upload, "PUT")) == 403
    assert refusal(request(upload, "PUT", cookie="cookie-b")) == 403
    assert refusal(request("/_stcore/upload_file/session-b/file-1", "PUT")) == 403
    assert refusal(request("/", cookie=None)) is None  # the page itself: the sign-in form


def test_a_signed_in_session_resumes_only_from_its_own_browser(signed_in):
    resume = "streamlit, xsrf-token, session-a"
    own = request("/_stcore/stream", cookie="cookie-a", sec_websocket_protocol=resume)
    assert protocols(without_foreign_resume(own)) == resume
    for cookie in (None, "cookie-b"):
        foreign = request("/_stcore/stream", cookie=cookie, sec_websocket_protocol=resume)
        assert protocols(without_foreign_resume(foreign)) == "streamlit, xsrf-token"
    other = request("/_stcore/stream", sec_websocket_protocol="streamlit, t, session-z")
    assert protocols(without_foreign_resume(other)) == "streamlit, t, session-z"
