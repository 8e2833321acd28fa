"""Request bodies have a limit per route, enforced while they are read: 413 in the visitor's language."""

from __future__ import annotations

import asyncio

import pytest

from portal.web import limits

CHUNK = 64 * 1024
HUNDRED_MB = 100 * 1024 * 1024


class Sender:
    """A client streaming a body in chunks, as slowly as the app pulls them; counts what the app pulled."""

    def __init__(self, total: int, prefix: bytes = b""):
        self.prefix = prefix
        self.left = total
        self.pulled = 0

    async def receive(self):
        if self.left <= 0:
            return {"type": "http.request", "body": b"", "more_body": False}
        size = min(CHUNK, self.left)
        self.left -= size
        self.pulled += size
        body, self.prefix = (self.prefix + b"a" * size)[:size], b""
        return {"type": "http.request", "body": body, "more_body": self.left > 0}


def post(app, path: str, sender: Sender, *, content_type: bytes, length: int | None = None, lang: str = "zh_CN"):
    """Calls the ASGI app directly (the test client would read the whole body first); returns (status, body)."""
    headers = [(b"host", b"testserver"), (b"content-type", content_type)]
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST", "scheme": "http",
             "path": path, "raw_path": path.encode(), "query_string": f"lang={lang}".encode(), "root_path": "",
             "headers": headers, "client": ("127.0.0.1", 50000), "server": ("testserver", 80)}
    messages = []

    async def send(message):
        messages.append(message)

    asyncio.run(app(scope, sender.receive, send))
    start = next(m for m in messages if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.response.body")
    return start["status"], body.decode("utf-8")


@pytest.mark.parametrize("path, content_type, limit", [
    ("/login", b"application/x-www-form-urlencoded", limits.FORM_LIMIT),
    ("/login", b"multipart/form-data; boundary=xyz", limits.FORM_LIMIT),
    ("/payments/callback", b"application/json", limits.CALLBACK_LIMIT),
])
def test_an_anonymous_100_mb_stream_is_refused_after_reading_little_more_than_the_limit(app, path, content_type,
                                                                                          limit):
    # A multipart body opens one field properly, so the parser keeps reading its value.
    sender = Sender(HUNDRED_MB, prefix=b'--xyz\r\nContent-Disposition: form-data; name="username"\r\n\r\n')
    status, page = post(app, path, sender, content_type=content_type)
    assert status == 413
    assert "超过了本页面允许的大小" in page
    assert sender.pulled <= limit + CHUNK  # the app stopped reading at the limit, not at 100 MB


@pytest.mark.parametrize("path", ["/login", "/payments/callback", "/employer/declarations/upload"])
def test_a_declared_length_over_the_limit_is_refused_before_a_byte_is_read(app, path):
    sender = Sender(HUNDRED_MB)
    status, page = post(app, path, sender, content_type=b"application/json", length=HUNDRED_MB, lang="en")
    assert status == 413 and "larger than this page accepts" in page
    assert sender.pulled == 0


def test_the_upload_route_reads_a_body_the_form_limit_would_refuse(app):
    size = limits.FORM_LIMIT * 4  # within the upload limit; refused later for want of a session, not its size
    sender = Sender(size)
    status, _page = post(app, "/employer/declarations/upload", sender, content_type=b"application/x-www-form-"
                         b"urlencoded", length=size)
    assert status != 413 and sender.pulled == size


def test_every_route_named_in_the_limits_exists(app):
    names = {getattr(route, "name", None) for route in app.routes}
    assert set(limits.ROUTE_LIMITS) <= names


def test_a_large_form_through_the_test_client_gets_the_translated_page(client):
    response = client.post("/login?lang=en", content=b"a=" + b"b" * (limits.FORM_LIMIT + 1),
                           headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert response.status_code == 413
    assert "larger than this page accepts (256 KB)" in response.text
    assert response.headers["x-request-id"] in response.text
