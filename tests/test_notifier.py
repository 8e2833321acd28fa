"""Messages to people go through one notifier: the SMS gateway in production, the development sink elsewhere."""

from __future__ import annotations

import dataclasses
import json
import threading
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from portal.app import create_app
from portal.notify import Message, NotifierError, Unconfigured, for_settings
from portal.notify.dev_sink import DevelopmentSink
from portal.notify.sms_gateway import SmsGateway
from tests.helpers import app_routes

AT = datetime(2026, 11, 28, 2, 0, tzinfo=UTC)


class Gateway(BaseHTTPRequestHandler):
    """A stand-in for the province's SMS gateway on loopback: keeps what it was sent, answers as told."""

    received: list = []
    status = 202

    def do_POST(self):  # noqa: N802 - the name http.server calls
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Gateway.received.append((self.path, self.headers["Authorization"], json.loads(body)))
        self.send_response(Gateway.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def gateway():
    Gateway.received, Gateway.status = [], 202
    server = ThreadingHTTPServer(("127.0.0.1", 0), Gateway)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/send"
    server.shutdown()
    server.server_close()


def test_the_gateway_adapter_posts_each_message_with_the_key_without_making_the_request_wait(gateway):
    adapter = SmsGateway(gateway, "the-key")
    adapter.send(Message(to="13912345678", text="您的验证码是123456", purpose="code", at=AT))
    adapter.wait()
    assert Gateway.received == [("/send", "Bearer the-key", {"to": "13912345678", "text": "您的验证码是123456"})]


def test_a_refusal_by_the_gateway_is_an_error_for_the_caller(gateway):
    Gateway.status = 500
    with pytest.raises(NotifierError, match="500"):
        SmsGateway(gateway, "k").deliver(Message(to="13912345678", text="x", purpose="code", at=AT))


def test_a_refused_message_sent_from_a_request_is_logged_not_raised(gateway, caplog):
    Gateway.status = 500
    adapter = SmsGateway(gateway, "k")
    adapter.send(Message(to="13912345678", text="x", purpose="code", at=AT))
    adapter.wait()
    assert "not accepted by the gateway" in caplog.text


def test_an_unreachable_gateway_is_an_error_for_the_caller(gateway):
    closed = gateway.replace("/send", "").rsplit(":", 1)[0] + ":9/send"  # the discard port: nothing listens
    with pytest.raises(NotifierError):
        SmsGateway(closed, "k").deliver(Message(to="13912345678", text="x", purpose="code", at=AT))


def test_the_settings_choose_the_notifier(settings):
    assert isinstance(for_settings(settings), DevelopmentSink)
    assert isinstance(for_settings(dataclasses.replace(settings, sms_url="https://sms.example/send", sms_key="k")),
                      SmsGateway)
    production = dataclasses.replace(settings, env="production")
    assert isinstance(for_settings(production), Unconfigured)  # never the sink in production
    with pytest.raises(NotifierError):
        for_settings(production).send(Message(to="13912345678", text="x", purpose="code", at=AT))


def test_the_development_page_lists_what_the_sink_kept(app, client):
    app.state.notifier.send(Message(to="13912345678", text="您的验证码是654321", purpose="code", at=AT))
    page = client.get("/dev/messages?to=13912345678")
    assert page.status_code == 200 and "654321" in page.text
    assert "654321" not in client.get("/dev/messages?to=13900000000").text


def test_the_development_page_is_not_routed_in_production(settings, db):
    production = create_app(dataclasses.replace(settings, env="production", sms_url="https://sms.example/send",
                                                sms_key="k"))
    try:
        assert "/dev/messages" not in {path for path, _methods, _endpoint in app_routes(production)}
    finally:
        production.state.sealer.close()
        production.state.engine.dispose()
