"""Helpers for the TLS integration tests (`test_tls_*.py`): the fixture certificates, configs with a TLS frontend,
`openssl s_client` runs parsed into what the tests check, Python `ssl` contexts for clients and TLS backends, and
clients that read or write in pauses (the stall cases).

Certificates (Tests/Fixtures/certs, see regenerate.sh): ca.pem is the test root; server.pem (ECDSA, localhost and
127.0.0.1), server-rsa.pem (RSA), a.pem (a.example, a.wild.example), wild.pem (*.wild.example) are signed by its
intermediate, and each PEM holds certificate, chain and key; client.pem (CN=client) is signed by the root;
foreign.pem is signed by other-ca.pem; expired.pem expired in 2020; mismatch.pem pairs server.pem's certificate
with another key.
"""

from __future__ import annotations

import re
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from conftest import REPO, Deadline, base_config
from httpclient import indent

CERTS = REPO / "Tests" / "Fixtures" / "certs"


def cert(name: str) -> str:
    """Absolute path of a fixture PEM (`cert("server")` -> .../server.pem)."""
    p = CERTS / (name if name.endswith(".pem") else f"{name}.pem")
    assert p.exists(), f"missing fixture {p} (Tests/Fixtures/certs/regenerate.sh)"
    return str(p)


# --------------------------------------------------------------------------------------------------------------
# Configs
# --------------------------------------------------------------------------------------------------------------

def tls_bind(crts=("server",), options: str = "", fd: str = "FE1") -> str:
    """`bind "fd@${FE1}" ssl crt <...> [options]`: the crt files in order (the first is the default)."""
    crt = " ".join(f"crt {cert(c)}" for c in crts)
    return f'bind "fd@${{{fd}}}" ssl {crt} {options}'.rstrip()


def https_config(frontend: str = "", backends: dict[str, str] | None = None, default: str | None = "be",
                 crts=("server",), bind_options: str = "", global_extra: str = "", defaults_extra: str = "",
                 log: bool = True) -> str:
    """A `mode http` frontend `fe` terminating TLS on fd@${FE1}, with `frontend` lines, an access log on stderr
    (`option httplog`, so failures are visible to both sluice and HAProxy), and one `backend` per entry of
    `backends` (name -> body lines, mode http added)."""
    cfg = base_config(global_extra=global_extra, defaults_extra=defaults_extra)
    cfg += "\nfrontend fe\n    mode http\n    " + tls_bind(crts, bind_options) + "\n"
    if log:
        cfg += "    log stderr format raw local0 info\n    option httplog\n"
    cfg += indent(frontend)
    if default:
        cfg += f"    default_backend {default}\n"
    for name, body in (backends or {}).items():
        cfg += f"\nbackend {name}\n    mode http\n" + indent(body)
    return cfg


# --------------------------------------------------------------------------------------------------------------
# openssl s_client
# --------------------------------------------------------------------------------------------------------------

@dataclass
class SClient:
    rc: int
    out: str
    err: str

    def _find(self, pattern: str) -> str | None:
        m = re.search(pattern, self.out, re.M)
        return m.group(1).strip() if m else None

    @property
    def subject(self) -> str | None:
        """The peer certificate's subject as s_client prints it, e.g. `CN = a.example`."""
        return self._find(r"^subject=(.*)$")

    @property
    def protocol(self) -> str | None:
        return self._find(r"^\s*Protocol\s*:\s*(\S+)") or self._find(r"^New, (TLSv[\d.]+),")

    @property
    def alpn(self) -> str | None:
        return self._find(r"^ALPN protocol: (.*)$")

    @property
    def no_alpn(self) -> bool:
        return "No ALPN negotiated" in self.out

    @property
    def verify_ok(self) -> bool:
        return "Verify return code: 0 (ok)" in self.out

    @property
    def handshake_done(self) -> bool:
        """A session was established: a cipher was agreed and the peer sent a certificate."""
        return self.subject is not None and re.search(r"^New, .*Cipher is (?!\(NONE\))", self.out, re.M) is not None

    def __str__(self) -> str:
        return f"rc={self.rc}\n--- stdout ---\n{self.out[-3000:]}\n--- stderr ---\n{self.err[-2000:]}"


def s_client(port: int, *args: str, servername: str | None = None, timeout: float = 10.0,
             stdin: bytes = b"") -> SClient:
    """`openssl s_client -connect 127.0.0.1:PORT -CAfile ca.pem [-servername N] ARGS`, stdin `stdin` then EOF
    (s_client then closes). Without `servername`, `-noservername` (no SNI at all)."""
    cmd = ["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-CAfile", cert("ca")]
    cmd += ["-servername", servername] if servername else ["-noservername"]
    cmd += list(args)
    p = subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout)
    return SClient(p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"))


# --------------------------------------------------------------------------------------------------------------
# Python ssl
# --------------------------------------------------------------------------------------------------------------

def client_ctx(ca: str = "ca", certfile: str | None = None, alpn: list[str] | None = None) -> ssl.SSLContext:
    """A verifying client context trusting `ca` (fixture name), optionally presenting `certfile`."""
    ctx = ssl.create_default_context(cafile=cert(ca))
    if certfile:
        ctx.load_cert_chain(cert(certfile))
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def server_ctx(crt: str = "server", sni_log: list | None = None) -> ssl.SSLContext:
    """A server context presenting fixture `crt` (for TLS backends). With `sni_log`, every SNI name (or None)
    a client sent is appended to it."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert(crt))
    if sni_log is not None:
        def cb(sslobj, name, _ctx):
            sni_log.append(name)
            return None
        ctx.sni_callback = cb
    return ctx


def tls_connect(port: int, server_hostname: str | None = "localhost", ctx: ssl.SSLContext | None = None,
                timeout: float = 10.0) -> ssl.SSLSocket:
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        return (ctx or client_ctx()).wrap_socket(s, server_hostname=server_hostname)
    except BaseException:
        s.close()
        raise


def peer_subject_cn(sock: ssl.SSLSocket) -> str | None:
    for rdn in sock.getpeercert().get("subject", ()):
        for k, v in rdn:
            if k == "commonName":
                return v
    return None


def read_response_paced(sock: ssl.SSLSocket, timeout: float, pause_every: int, pause: float,
                        chunk: int = 16384) -> tuple[bytes, bytes, int]:
    """Read one HTTP/1.1 response with a Content-Length body from `sock`, stopping for `pause` seconds after every
    `pause_every` body bytes (a slow client: the proxy's buffers and socket fill, then drain). Returns (head,
    body sha256 digest, body length); fails on the deadline or an early EOF."""
    import hashlib

    dl = Deadline(timeout)
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        if dl.expired():
            raise AssertionError(f"no response head within {timeout}s (got {bytes(buf[:200])!r})")
        sock.settimeout(max(0.01, dl.left()))
        data = sock.recv(chunk)
        if not data:
            raise AssertionError(f"EOF before the response head (got {bytes(buf[:200])!r})")
        buf += data
    i = buf.index(b"\r\n\r\n") + 4
    head, rest = bytes(buf[:i]), bytes(buf[i:])
    m = re.search(rb"\r\ncontent-length:\s*(\d+)", head, re.I)
    assert m, f"no Content-Length in {head!r}"
    total = int(m.group(1))
    h = hashlib.sha256(rest)
    got = len(rest)
    since = got
    while got < total:
        if dl.expired():
            raise AssertionError(f"body: {got} of {total} bytes within {timeout}s")
        if since >= pause_every:
            since = 0
            time.sleep(pause)  # the behaviour under test: a client that stops reading for a while
        sock.settimeout(max(0.01, dl.left()))
        try:
            data = sock.recv(min(chunk, total - got))
        except socket.timeout:
            continue
        if not data:
            raise AssertionError(f"EOF after {got} of {total} body bytes")
        h.update(data)
        got += len(data)
        since += len(data)
    return head, h.digest(), got


HANDSHAKE_FAILURE = re.compile(r"SSL handshake|SSL client certificate")


def handshake_failures(text: str) -> list[str]:
    """The log lines reporting a failed client handshake. sluice: `SSL handshake failure: <reason>`; HAProxy:
    `fe/1: SSL handshake failure`, `Connection closed during SSL handshake`, `SSL client certificate not
    trusted`..."""
    return [ln for ln in text.splitlines() if HANDSHAKE_FAILURE.search(ln)]


def handshake_log_seen(text: str) -> bool:
    return bool(handshake_failures(text))
