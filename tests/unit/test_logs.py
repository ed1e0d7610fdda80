"""One log format (issue 20): JSON lines off a terminal, key=value on one; the ids of the
request in context; secrets never written."""

from __future__ import annotations

import io
import json
import logging

import pytest

from app import logs


@pytest.fixture
def output():
    stream = io.StringIO()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    logs.configure("INFO", stream)
    yield stream
    for handler in list(root.handlers):
        root.removeHandler(handler)
    for handler in saved[0]:
        root.addHandler(handler)
    root.setLevel(saved[1])


def test_json_off_a_terminal_with_the_ids_in_context(output) -> None:
    unbind = logs.bind(request_id="req-1", partner_id="p-1")
    try:
        logs.bind(entity_id="e-1")
        logging.getLogger("acctsync.test").warning("pull %s failed", "bills")
        logging.getLogger("uvicorn.error").warning("uvicorn speaks the same format")
    finally:
        unbind()
    logging.getLogger("acctsync.test").info("after the request")
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    first = lines[0]
    assert first["message"] == "pull bills failed" and first["level"] == "WARNING"
    assert (first["request_id"], first["partner_id"], first["entity_id"]) == ("req-1", "p-1", "e-1")
    assert first["logger"] == "acctsync.test" and first["ts"].endswith("Z")
    assert lines[1]["logger"] == "uvicorn.error" and lines[1]["request_id"] == "req-1"
    assert "request_id" not in lines[2] and "entity_id" not in lines[2]


def test_readable_on_a_terminal() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stream = Terminal()
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        logs.configure("INFO", stream)
        unbind = logs.bind(record_id="r-9")
        logging.getLogger("acctsync.push").info("pushed")
        unbind()
    finally:
        for handler in list(root.handlers):
            root.removeHandler(handler)
        for handler in saved[0]:
            root.addHandler(handler)
        root.setLevel(saved[1])
    line = stream.getvalue().strip()
    assert " INFO acctsync.push pushed record_id=r-9" in line and not line.startswith("{")


@pytest.mark.parametrize(
    "message, secret",
    [
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.abc", "eyJhbGciOiJIUzI1NiJ9"),
        ("sandbox auth Basic c2FuZGJveA==", "c2FuZGJveA"),
        ('{"client_id": "c", "client_secret": "s3cr3t-value"}', "s3cr3t-value"),
        ("webhook secret whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "MfKQ9r8GKYqrTwjUPD8ILPZIo2"),
        ("refresh_token=abcdef123456&x=1", "abcdef123456"),
        ("password: hunter2", "hunter2"),
    ],
)
def test_secrets_are_never_written(output, message: str, secret: str) -> None:
    try:
        raise ValueError(message)
    except ValueError:
        logging.getLogger("acctsync.test").exception("failed with %s", message)
    text = output.getvalue()
    assert secret not in text and "[redacted]" in text
    assert json.loads(text.splitlines()[0])["exc"]  # the traceback is kept, masked


async def test_a_request_logs_with_its_request_id(output, client) -> None:
    r = await client.post(
        "/v1/webhooks/codat",
        content=b"{}",
        headers={"x-request-id": "support-ticket-42", "Authorization": "Bearer leaked-token"},
    )
    assert r.status_code == 401 and r.headers["x-request-id"] == "support-ticket-42"
    lines = [json.loads(line) for line in output.getvalue().splitlines()]
    rejected = [line for line in lines if line["message"].startswith("webhook rejected")]
    assert rejected and rejected[0]["request_id"] == "support-ticket-42", lines
    assert "leaked-token" not in output.getvalue()
