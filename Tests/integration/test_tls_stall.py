"""The stall case (issue 4, POLLER.md "Invisible buffers"): TLS plaintext that OpenSSL has already decrypted and
holds inside the SSL object, with no new byte on the socket. A proxy that waits for epoll to report the socket
readable again before calling SSL_read stalls forever once the peer has nothing more to send.

Each test moves 20 MB through sluice while the far end stops reading in pauses, so every buffer on the way
fills, the proxy stops reading its source mid-record, and later has to resume from what OpenSSL holds:
  * upload: a TLS client sends a 20 MB body; the backend (plain or TLS) reads it with pauses;
  * download: the backend (plain or TLS) sends a 20 MB body; the TLS client reads it with pauses.
The sha256 at the far end must equal the one sent, within a deadline. The body is written so that it ends with
a full 16 KB record and nothing follows it; with `tune.bufsize 6144` the proxy can never take a whole record at
once. Checked by mutation: resuming with pollRecv instead of wantRecv after the buffer drains makes the
small-buffer variants stall (the default-size ones only sometimes)."""

import hashlib
import os

import pytest

from conftest import sha
from httpclient import HttpConn
from httpbackend import payload
from tlshelpers import cert, https_config, read_response_paced, server_ctx, tls_connect

SIZE = 20 * 1024 * 1024
DEADLINE = 45.0


def config(be, backend_tls: bool, global_extra: str = "") -> str:
    server = f"server s1 {be.addr}"
    if backend_tls:
        server += f" ssl verify required ca-file {cert('ca')} sni str(localhost)"
    return https_config(backends={"be": server}, global_extra=global_extra,
                        defaults_extra="    timeout client 30s\n    timeout server 30s")


def backend(backends, backend_tls: bool):
    return backends.http("tlsbe" if backend_tls else "plainbe", ssl=server_ctx("server") if backend_tls else None)


VARIANTS = [
    pytest.param(False, "", id="plain-backend"),
    pytest.param(True, "", id="tls-backend"),
    # Buffers smaller than a TLS record (16 KB of plaintext): OpenSSL is left holding part of almost every record.
    pytest.param(True, "    tune.bufsize 6144", id="tls-backend-small-buffers"),
]


@pytest.mark.parametrize("backend_tls, global_extra", VARIANTS)
def test_upload_20mb_to_a_backend_reading_in_pauses(sluice, backends, fe, backend_tls, global_extra):
    be = backend(backends, backend_tls)
    sl = sluice(config(be, backend_tls, global_extra), fds={"FE1": fe()})
    body = os.urandom(SIZE)
    with tls_connect(sl.ports["FE1"], timeout=DEADLINE) as s:
        head = (f"POST /upload?pauseread={1 << 20}:150 HTTP/1.1\r\nHost: localhost\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {SIZE}\r\n\r\n").encode()
        s.sendall(head)
        # One write: the body starts a record and, 20 MB being a multiple of 16 KB, ends with a full one. The
        # proxy reads that last record into a partly full buffer, so OpenSSL keeps the rest, and the socket
        # stays silent from then on: only the event cache can finish the upload.
        s.sendall(body)
        r = HttpConn(None, sock=s, timeout=DEADLINE).read_response()
    assert r.status == 200, r
    (req,) = be.seen()
    assert req.body_len == SIZE, f"the backend read {req.body_len} of {SIZE} bytes"
    assert req.body_sha == sha(body), "the backend received different bytes"
    assert r.header("x-req-body-sha256") == sha(body)


@pytest.mark.parametrize("backend_tls, global_extra", VARIANTS)
def test_download_20mb_to_a_client_reading_in_pauses(sluice, backends, fe, backend_tls, global_extra):
    be = backend(backends, backend_tls)
    sl = sluice(config(be, backend_tls, global_extra), fds={"FE1": fe()})
    with tls_connect(sl.ports["FE1"], timeout=DEADLINE) as s:
        # headapart: over TLS the body starts a record and ends with a full one (see the upload).
        s.sendall(f"GET /download?size={SIZE}&headapart=1 HTTP/1.1\r\nHost: localhost\r\n\r\n".encode())
        head, digest, n = read_response_paced(s, DEADLINE, pause_every=1 << 20, pause=0.15)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert n == SIZE, f"received {n} of {SIZE} bytes"
    expected = hashlib.sha256(payload(SIZE)).hexdigest()
    assert digest.hex() == expected, "the client received different bytes"


def test_both_directions_at_once_with_pauses(sluice, backends, fe):
    """A 20 MB echo (`body=echo`: the backend answers once it has read the whole body) through TLS on both sides,
    the backend reading in pauses and the client reading the echo in pauses."""
    be = backend(backends, True)
    sl = sluice(config(be, True), fds={"FE1": fe()})
    body = os.urandom(SIZE)
    with tls_connect(sl.ports["FE1"], timeout=DEADLINE) as s:
        s.sendall((f"POST /echo?body=echo&pauseread={2 << 20}:100 HTTP/1.1\r\nHost: localhost\r\n"
                   f"Content-Length: {SIZE}\r\n\r\n").encode() + body)
        head, digest, n = read_response_paced(s, DEADLINE, pause_every=2 << 20, pause=0.1)
    assert head.startswith(b"HTTP/1.1 200"), head
    assert n == SIZE and digest.hex() == sha(body), f"echo: {n} bytes, sha {'ok' if digest.hex() == sha(body) else 'differs'}"
