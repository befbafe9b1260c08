"""Client ID Metadata Documents for the end-to-end tests: a test CA made
with `cryptography`, and a real HTTPS server on 127.0.0.1 that serves the
documents and counts every connection it accepts.

The shim trusts this server only through its explicit test relaxation
(``cimd.insecure_private_hosts: [localhost]`` and ``cimd.insecure_ca`` with
the test CA), exactly as an operator of a private deployment would; the
document URL is ``https://localhost:<port>/<name>.json``, https with a
path, as the MCP SDK requires of ``client_metadata_url``."""
from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


class TestCA:
    """A throw-away CA and one server certificate for localhost / 127.0.0.1."""

    def __init__(self, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        now = datetime.datetime.now(datetime.timezone.utc)
        start, end = now - datetime.timedelta(days=1), now + datetime.timedelta(days=2)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dcr-shim e2e test CA")])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
              .serial_number(x509.random_serial_number()).not_valid_before(start).not_valid_after(end)
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        leaf = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])).issuer_name(ca_name)
                .public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(start).not_valid_after(end)
                .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost"),
                                                            x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        self.ca_path = workdir / "test-ca.pem"
        self.ca_path.write_bytes(ca.public_bytes(pem))
        self.cert_path = workdir / "localhost.pem"
        self.cert_path.write_bytes(leaf.public_bytes(pem))
        self.key_path = workdir / "localhost.key"
        self.key_path.write_bytes(key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.key_path.chmod(0o600)


class DocumentServer:
    """HTTPS on 127.0.0.1: `publish(name, document)` serves JSON at
    `/name.json`; `connections` counts accepted TCP connections,
    `requests` the paths asked for and `headers` each request's headers."""

    def __init__(self, ca: TestCA):
        self.documents: dict[str, tuple[int, dict[str, str], bytes]] = {}
        self.requests: list[str] = []
        self.headers: list[dict[str, str]] = []
        self.connections = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):  # noqa: N802
                outer.requests.append(self.path)
                outer.headers.append({name.lower(): value for name, value in self.headers.items()})
                status, headers, body = outer.documents.get(self.path, (404, {"Content-Type": "application/json"}, b"{}"))
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Connection", "close")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def get_request(self):
                sock, address = super().get_request()
                outer.connections += 1
                return context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False), address

            def handle_error(self, request, client_address):
                pass  # a client refusing our certificate is not a test failure here

        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(ca.cert_path, ca.key_path)
        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.ca = ca
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, name: str, host: str = "localhost") -> str:
        return f"https://{host}:{self.port}/{name}.json"

    def publish(self, name: str, document: dict, *, status: int = 200, cache_control: str | None = None,
                content_type: str = "application/json") -> str:
        headers = {"Content-Type": content_type}
        if cache_control:
            headers["Cache-Control"] = cache_control
        self.documents[f"/{name}.json"] = (status, headers, json.dumps(document).encode())
        return self.url(name)

    def shim_extra(self) -> dict:
        """The shim's `cimd:` block: the test relaxation for this server only."""
        return {"cimd": {"enabled": True, "insecure_private_hosts": ["localhost"], "insecure_ca_file": str(self.ca.ca_path)}}

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def document(url: str, *, name: str = "dcr-shim e2e CIMD client", redirect_uris: list[str] | None = None,
             **extra) -> dict:
    """A Client ID Metadata Document as the MCP spec's example has it."""
    return {"client_id": url, "client_name": name,
            "redirect_uris": redirect_uris or ["http://127.0.0.1/callback", "http://localhost/callback"],
            "grant_types": ["authorization_code", "refresh_token"], "response_types": ["code"],
            "token_endpoint_auth_method": "none", "application_type": "native", **extra}
