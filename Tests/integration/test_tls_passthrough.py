"""SNI passthrough in TCP mode: `tcp-request inspect-delay` + `tcp-request content accept if { req.ssl_hello_type 1 }`
+ `use_backend ... if { req.ssl_sni -i name }` route a TLS connection by its ClientHello without terminating it.
Two (three) TLS servers run in the test, each presenting its own certificate and answering its name; the client
must see the backend's certificate, the backend the client's SNI, and the bytes go through end to end."""

import os
import socket
import ssl
import time

import pytest

from conftest import Deadline, base_config, sha, wait_until
from tlshelpers import client_ctx, peer_subject_cn, server_ctx, tls_connect


def config(bea, bew, bedef, extra: str = "") -> str:
    return base_config() + f"""
frontend fe
    mode tcp
    bind "fd@${{FE1}}"
    log stderr format raw local0 info
    option tcplog
    tcp-request inspect-delay 5s
    tcp-request content accept if {{ req.ssl_hello_type 1 }}
{extra}
    use_backend bea if {{ req.ssl_sni -i a.example }}
    use_backend bew if {{ req.ssl_sni -i b.wild.example }}
    default_backend bedef

backend bea
    server s1 {bea.addr}

backend bew
    server s1 {bew.addr}

backend bedef
    server s1 {bedef.addr}
"""


@pytest.fixture
def three(backends):
    """TLS backends: 'a' (a.pem), 'wild' (wild.pem), 'default' (server.pem); each sends its name, then echoes.
    Each records the SNI names it saw."""
    out = {}
    for name, crt in (("a", "a"), ("wild", "wild"), ("default", "server")):
        sni: list = []
        be = backends.tag(name, then="echo", ssl=server_ctx(crt, sni_log=sni))
        be.sni = sni
        out[name] = be
    return out


def read_line(s: ssl.SSLSocket, timeout: float = 5.0) -> bytes:
    dl = Deadline(timeout)
    buf = b""
    while not buf.endswith(b"\n"):
        s.settimeout(max(0.01, dl.left()))
        chunk = s.recv(100)
        assert chunk, f"EOF after {buf!r}"
        buf += chunk
    return buf


@pytest.mark.parametrize("sni, backend, cn", [
    ("a.example", "a", "a.example"),
    ("A.Example", "a", "a.example"),  # -i
    ("b.wild.example", "wild", "*.wild.example"),
    ("other.example", "default", "localhost"),
])
def test_routes_by_sni_without_terminating(sluice, fe, three, sni, backend, cn):
    sl = sluice(config(three["a"], three["wild"], three["default"]), fds={"FE1": fe()})
    with tls_connect(sl.ports["FE1"], server_hostname=sni, ctx=_ctx_for(cn)) as s:
        assert peer_subject_cn(s) == cn, "the client must see the backend's own certificate"
        assert read_line(s) == backend.encode() + b"\n"
        s.sendall(b"ping through\n")
        assert read_line(s) == b"ping through\n"
    be = three[backend]
    assert [n.lower() if n else n for n in be.sni] == [sni.lower()], f"SNI the backend saw: {be.sni}"
    others = [b for name, b in three.items() if name != backend]
    assert all(b.accepted == 0 for b in others), "only the chosen backend gets a connection"


def _ctx_for(cn: str) -> ssl.SSLContext:
    """Verify the chain against the test CA; hostname checks are the test's (wildcard CN vs. the name)."""
    ctx = client_ctx()
    ctx.check_hostname = False
    return ctx


def test_no_sni_goes_to_the_default_backend(sluice, fe, three):
    sl = sluice(config(three["a"], three["wild"], three["default"]), fds={"FE1": fe()})
    ctx = _ctx_for("localhost")
    with tls_connect(sl.ports["FE1"], server_hostname=None, ctx=ctx) as s:
        assert peer_subject_cn(s) == "localhost"
        assert read_line(s) == b"default\n"
    assert three["default"].sni == [None]


def test_two_backends_concurrently_with_integrity(sluice, fe, three):
    """Both routes open at once, 1 MB echoed through each, end-to-end TLS."""
    sl = sluice(config(three["a"], three["wild"], three["default"]), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    ctx = _ctx_for("")
    a = tls_connect(port, server_hostname="a.example", ctx=ctx)
    w = tls_connect(port, server_hostname="b.wild.example", ctx=ctx)
    with a, w:
        assert read_line(a) == b"a\n" and read_line(w) == b"wild\n"
        for s in (a, w):
            data = os.urandom(1 << 20)
            got = bytearray()
            s.settimeout(10)
            # Send and read in turns of 64 KB: the echo never has more than that in flight.
            for i in range(0, len(data), 65536):
                s.sendall(data[i:i + 65536])
                while len(got) < i + min(65536, len(data) - i):
                    got += s.recv(65536)
            assert sha(bytes(got)) == sha(data)


def test_client_hello_in_pieces_is_still_routed(sluice, fe, three):
    """The ClientHello arrives in three TCP segments: the proxy waits for all of it before matching."""
    sl = sluice(config(three["a"], three["wild"], three["default"]), fds={"FE1": fe()})
    ctx = _ctx_for("a.example")
    raw = socket.create_connection(("127.0.0.1", sl.ports["FE1"]), timeout=5)
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = ctx.wrap_bio(inc, out, server_hostname="a.example")
    with raw:
        try:
            obj.do_handshake()
        except ssl.SSLWantReadError:
            pass
        hello = out.read()
        assert len(hello) > 100
        for piece in (hello[:3], hello[3:60], hello[60:]):
            raw.sendall(piece)
            time.sleep(0.1)  # input shaping: let each piece arrive (and be inspected) on its own
        dl = Deadline(5)
        while True:
            try:
                obj.do_handshake()
                break
            except ssl.SSLWantReadError:
                pending = out.read()
                if pending:
                    raw.sendall(pending)
                raw.settimeout(max(0.01, dl.left()))
                data = raw.recv(65536)
                assert data, "EOF during the handshake"
                inc.write(data)
        raw.sendall(out.read())
        assert obj.getpeercert()["subject"][0][0][1] == "a.example"
        buf = b""
        while not buf.endswith(b"\n"):
            try:
                buf += obj.read(100)
            except ssl.SSLWantReadError:
                inc.write(raw.recv(65536))
        assert buf == b"a\n"
    assert three["a"].sni == ["a.example"]


def test_plaintext_client_is_rejected_at_once(sluice, fe, three):
    """With `tcp-request content reject` after the accept rule, bytes that cannot start a ClientHello are
    rejected as soon as they arrive, not after the inspect delay."""
    sl = sluice(config(three["a"], three["wild"], three["default"], extra="    tcp-request content reject"),
                fds={"FE1": fe()})
    with socket.create_connection(("127.0.0.1", sl.ports["FE1"]), timeout=5) as s:
        s.sendall(b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n")
        t0 = time.monotonic()
        s.settimeout(4)
        try:
            data = s.recv(100)
        except ConnectionResetError:
            data = b""
        assert data == b"", f"nothing may come back: {data!r}"
        assert time.monotonic() - t0 < 3, "rejected only after the inspect delay"
    assert all(b.accepted == 0 for b in three.values())
    # A TLS client right after is routed normally.
    with tls_connect(sl.ports["FE1"], server_hostname="a.example", ctx=_ctx_for("a.example")) as s:
        assert read_line(s) == b"a\n"


def test_passthrough_log_line_names_the_backend(sluice, fe, three):
    sl = sluice(config(three["a"], three["wild"], three["default"]), fds={"FE1": fe()})
    with tls_connect(sl.ports["FE1"], server_hostname="b.wild.example", ctx=_ctx_for("")) as s:
        assert read_line(s) == b"wild\n"
    sl.wait_output(" fe bew/s1 ", timeout=5)
    wait_until(lambda: three["wild"].current == 0, 5, "backend connection closed")
