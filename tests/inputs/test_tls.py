"""TLS to the providers is verified: the client's context requires a valid certificate for the
host name, and a server with a self-signed certificate is refused at once (no retries)."""

from __future__ import annotations

import logging
import shutil
import ssl
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest
from mobile_ingress_inputs.errors import HttpStatusError
from mobile_ingress_inputs.health import RunHealth
from mobile_ingress_inputs.httpclient import HttpClient, verifying_context

from .support import FAST


def test_the_default_context_verifies_certificates_and_host_names() -> None:
    context = verifying_context()
    assert context.verify_mode == ssl.CERT_REQUIRED and context.check_hostname


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command to make a certificate")
def test_a_self_signed_server_is_refused_without_retrying(tmp_path: Path) -> None:
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-days", "1",
         "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip

    class Ok(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Ok)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(str(cert), str(key))
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.handle_request, daemon=True)
    thread.start()
    sleeps: list[float] = []
    client = HttpClient(
        FAST, RunHealth("p", "i", 0.0), logging.getLogger("tests.inputs.tls"), sleep=sleeps.append
    )
    try:
        with pytest.raises(HttpStatusError, match="TLS failure"):
            client.request("GET", f"https://127.0.0.1:{server.server_address[1]}/", context="self-signed")
    finally:
        server.server_close()
    assert sleeps == []
