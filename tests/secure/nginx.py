"""nginx (Debian's) as a TLS endpoint with authentication in front of the shared Elasticsearch.

The integ-test distribution of Elasticsearch has no security module; this stands in for a
secured cluster: TLS with a certificate from a CA made for the run, and a request passes
only with the one user and password (HTTP Basic) or the one API key (``Authorization:
ApiKey ...``) it knows, else 401 with Elasticsearch's own error shape.
"""

from __future__ import annotations

import base64
import secrets
import signal
import ssl
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.secure.certs import Ca, Server, require_command
from tests.support import free_port

USER = "newsflow"
# Elasticsearch's own answer to a request without valid credentials.
UNAUTHENTICATED = (
    '{"error":{"type":"security_exception","reason":"unable to authenticate"},"status":401}'
)


@dataclass(frozen=True)
class SecuredEs:
    """What a client needs to reach Elasticsearch through the TLS endpoint."""

    url: str
    ca_file: Path
    other_ca_file: Path
    fingerprint: str  # SHA-256 of the endpoint's certificate, hex
    password: str
    api_key: str


def nginx_conf(folder: Path, port: int, upstream: str, server: Server, grants: list[str]) -> str:
    """The configuration: one TLS server that proxies authorized requests only."""
    allowed = "\n".join(f'        "{header}" 1;' for header in grants)
    temp = " ".join(
        f"{kind}_temp_path {folder / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""\
daemon off;
worker_processes 1;
pid {folder / "nginx.pid"};
error_log {folder / "error.log"} warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    map_hash_bucket_size 256;
    {temp}
    map $http_authorization $newsflow_authorized {{
        default 0;
{allowed}
    }}
    server {{
        listen 127.0.0.1:{port} ssl;
        ssl_certificate {server.cert};
        ssl_certificate_key {server.key};
        location / {{
            if ($newsflow_authorized = 0) {{
                add_header WWW-Authenticate 'Basic realm="security" charset="UTF-8"' always;
                add_header Content-Type application/json always;
                return 401 '{UNAUTHENTICATED}';
            }}
            proxy_pass {upstream};
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Authorization "";
        }}
    }}
}}
"""


@contextmanager
def secured_es(folder: Path, upstream: str = "http://127.0.0.1:9200") -> Iterator[SecuredEs]:
    """nginx on a free port in front of ``upstream``; stopped on exit."""
    nginx = require_command("nginx", "nginx")
    ca, other = Ca.create(folder, "es-ca"), Ca.create(folder, "es-other-ca")
    server = ca.issue("es")
    password, api_key = secrets.token_urlsafe(16), secrets.token_urlsafe(24)
    basic = base64.b64encode(f"{USER}:{password}".encode()).decode()
    port = free_port()
    conf = folder / "nginx.conf"
    for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (folder / kind).mkdir(exist_ok=True)
    conf.write_text(
        nginx_conf(folder, port, upstream, server, [f"Basic {basic}", f"ApiKey {api_key}"])
    )
    log = (folder / "nginx.out").open("ab")
    proc = subprocess.Popen(
        [nginx, "-c", str(conf), "-p", str(folder)], stdout=log, stderr=subprocess.STDOUT
    )
    url = f"https://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            assert proc.poll() is None, (folder / "nginx.out").read_text()
            try:
                httpx.get(url, verify=ssl.create_default_context(cafile=ca.cert), timeout=2)
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline, "nginx did not answer in 30 s"
                time.sleep(0.2)
        yield SecuredEs(url, ca.cert, other.cert, server.sha256_fingerprint(), password, api_key)
    finally:
        proc.send_signal(signal.SIGQUIT)  # graceful
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()
