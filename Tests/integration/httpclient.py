"""Client side of the HTTP-mode tests: a raw HTTP/1.1 connection that reads responses exactly (pipelining, 1xx,
HEAD/204/304, chunked, until-close), a WebSocket client over it, curl, and config templates."""

from __future__ import annotations

import base64
import json
import os
import random
import re
import socket
import struct
import subprocess
from dataclasses import dataclass, field

from conftest import Deadline, base_config
from httpbackend import ws_accept, ws_frame


# --------------------------------------------------------------------------------------------------------------
# Config
# --------------------------------------------------------------------------------------------------------------

def http_config(frontend: str = "", backends: dict[str, str] | None = None, default: str | None = "be",
                global_extra: str = "", defaults_extra: str = "", listen: str | None = None) -> str:
    """global/defaults from the harness, then `frontend fe` in mode http bound to fd@${FE1} with `frontend` lines,
    and one `backend` per entry of `backends` (name -> body lines, mode http added)."""
    cfg = base_config(global_extra=global_extra, defaults_extra=defaults_extra)
    cfg += '\nfrontend fe\n    mode http\n    bind "fd@${FE1}"\n'
    cfg += indent(frontend)
    if default:
        cfg += f"    default_backend {default}\n"
    for name, body in (backends or {}).items():
        cfg += f"\nbackend {name}\n    mode http\n" + indent(body)
    return cfg


def indent(text: str) -> str:
    lines = [ln.strip() for ln in text.strip("\n").splitlines() if ln.strip()]
    return "".join(f"    {ln}\n" for ln in lines)


# --------------------------------------------------------------------------------------------------------------
# Raw HTTP/1.1 client
# --------------------------------------------------------------------------------------------------------------

@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    raw_head: bytes = b""
    chunked: bool = False
    until_close: bool = False
    trailers: list[tuple[str, str]] = field(default_factory=list)

    @property
    def status_line(self) -> str:
        return f"HTTP/{self.version} {self.status} {self.reason}"

    def header(self, name: str) -> str | None:
        vals = self.header_all(name)
        return ", ".join(vals) if vals else None

    def header_all(self, name: str) -> list[str]:
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def has(self, name: str) -> bool:
        return bool(self.header_all(name))

    def json(self) -> dict:
        return json.loads(self.body)

    def closes(self) -> bool:
        """The response announces the end of the connection (Connection: close)."""
        return "close" in [t.strip().lower() for t in (self.header("connection") or "").split(",")]

    def __repr__(self) -> str:
        return f"<{self.status_line} {self.headers} body={self.body[:200]!r}{'...' if len(self.body) > 200 else ''}>"


class HttpConn:
    """One client TCP connection with a read buffer; reads responses one at a time, exactly."""

    def __init__(self, port: int | None, timeout: float = 5.0, host: str = "127.0.0.1",
                 sock: socket.socket | None = None):
        """Connect to host:port, or (port None) wrap an already connected `sock`."""
        self.sock = sock if sock is not None else socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.buf = bytearray()
        self.eof = False

    def close(self):
        self.sock.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes):
        self.sock.sendall(data)

    def local_port(self) -> int:
        return self.sock.getsockname()[1]

    def _fill(self, dl: Deadline, what: str) -> bool:
        """Read more into buf; False on EOF (or reset). Fails on the deadline."""
        if self.eof:
            return False
        while True:
            if dl.expired():
                raise AssertionError(f"timed out after {dl.seconds:.1f}s waiting for {what} "
                                     f"(buffered {bytes(self.buf[:200])!r})")
            self.sock.settimeout(max(0.01, dl.left()))
            try:
                data = self.sock.recv(262144)
            except socket.timeout:
                continue
            except ConnectionResetError:
                self.eof = True
                return False
            if not data:
                self.eof = True
                return False
            self.buf += data
            return True

    def read_until(self, sep: bytes, dl: Deadline, what: str) -> bytes:
        while True:
            i = self.buf.find(sep)
            if i >= 0:
                out = bytes(self.buf[:i + len(sep)])
                del self.buf[:i + len(sep)]
                return out
            if not self._fill(dl, what):
                raise AssertionError(f"connection closed while waiting for {what} (buffered "
                                     f"{bytes(self.buf[:200])!r})")

    def read_exact(self, n: int, dl: Deadline, what: str) -> bytes:
        while len(self.buf) < n:
            if not self._fill(dl, what):
                raise AssertionError(f"connection closed after {len(self.buf)} of {n} bytes of {what}")
        out = bytes(self.buf[:n])
        del self.buf[:n]
        return out

    def read_to_eof(self, dl: Deadline, what: str) -> bytes:
        while self._fill(dl, what):
            pass
        out = bytes(self.buf)
        self.buf.clear()
        return out

    def read_response(self, method: str = "GET", timeout: float | None = None) -> Response:
        """One response (a 1xx is returned on its own). Body framing per RFC 9112 section 6.3."""
        dl = Deadline(timeout or self.timeout)
        head = self.read_until(b"\r\n\r\n", dl, "a response head")
        lines = head[:-4].split(b"\r\n")
        m = re.match(rb"^HTTP/(\d\.\d) (\d{3}) ?(.*)$", lines[0])
        if not m:
            raise AssertionError(f"not an HTTP status line: {lines[0]!r} (head {head[:300]!r})")
        headers = []
        for ln in lines[1:]:
            k, sep, v = ln.partition(b":")
            if not sep:
                raise AssertionError(f"bad response header line {ln!r}")
            headers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
        r = Response(m.group(1).decode(), int(m.group(2)), m.group(3).decode("latin-1"), headers, raw_head=head)
        if 100 <= r.status < 200 or r.status in (204, 304) or method == "HEAD":
            return r
        te = r.header("transfer-encoding")
        if te is not None and te.lower().endswith("chunked"):
            r.chunked = True
            body = bytearray()
            while True:
                line = self.read_until(b"\r\n", dl, "a chunk size line")
                size = int(line[:-2].split(b";")[0].strip(), 16)
                if size == 0:
                    break
                body += self.read_exact(size, dl, "chunk data")
                if self.read_exact(2, dl, "CRLF after chunk") != b"\r\n":
                    raise AssertionError("chunk data not followed by CRLF")
            while True:
                line = self.read_until(b"\r\n", dl, "trailers")
                if line == b"\r\n":
                    break
                k, _, v = line[:-2].partition(b":")
                r.trailers.append((k.decode("latin-1"), v.strip().decode("latin-1")))
            r.body = bytes(body)
        elif r.header("content-length") is not None:
            r.body = self.read_exact(int(r.header("content-length")), dl, "the response body")
        else:
            r.until_close = True
            r.body = self.read_to_eof(dl, "the end of an until-close body")
        return r

    def request(self, method: str = "GET", target: str = "/", headers: list[tuple[str, str]] | None = None,
                body: bytes | None = None, timeout: float | None = None) -> Response:
        self.send(build_request(method, target, headers, body))
        return self.read_response(method, timeout)

    def closed_by_peer(self, timeout: float) -> bool:
        """Wait up to `timeout` for the peer to close (EOF or reset); True if it did. Bytes read are kept."""
        dl = Deadline(timeout)
        while not dl.expired():
            self.sock.settimeout(max(0.01, dl.left()))
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                self.eof = True
                return True
            if not data:
                self.eof = True
                return True
            self.buf += data
        return False


def build_request(method: str = "GET", target: str = "/", headers: list[tuple[str, str]] | None = None,
                  body: bytes | None = None, version: str = "1.1") -> bytes:
    hs = list(headers or [])
    names = {k.lower() for k, _ in hs}
    if "host" not in names:
        hs.insert(0, ("Host", "test.local"))
    if body is not None and "content-length" not in names and "transfer-encoding" not in names:
        hs.append(("Content-Length", str(len(body))))
    head = f"{method} {target} HTTP/{version}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in hs) + "\r\n"
    return head.encode("latin-1") + (body or b"")


def chunk_encode(body: bytes, sizes=(1, 10, 4096, 65536, 3), trailers: list[tuple[str, str]] = ()) -> bytes:
    out = bytearray()
    i, j = 0, 0
    while i < len(body):
        k = min(sizes[j % len(sizes)], len(body) - i)
        out += b"%x\r\n" % k + body[i:i + k] + b"\r\n"
        i += k
        j += 1
    out += b"0\r\n" + b"".join(f"{k}: {v}\r\n".encode() for k, v in trailers) + b"\r\n"
    return bytes(out)


def one_request(port: int, raw: bytes, timeout: float = 5.0, method: str = "GET") -> tuple[Response, HttpConn]:
    """Send raw bytes on a new connection and read one response; returns it and the (still open) connection, which
    the caller closes (`with`)."""
    c = HttpConn(port, timeout)
    try:
        c.send(raw)
        return c.read_response(method), c
    except BaseException:
        c.close()
        raise


def assert_closed_or_usable(c: HttpConn, r: Response, timeout: float = 2.0):
    """After response `r`: either it said `Connection: close` and the proxy closes the connection, or the
    connection carries another request (HTTP/1.1 keep-alive). Never a silent close."""
    if r.closes():
        assert c.closed_by_peer(timeout), f"the response said Connection: close but the connection stayed open"
        return
    try:
        r2 = c.request("GET", "/next-on-same-connection")
    except AssertionError as e:
        raise AssertionError(f"the proxy closed the connection after {r.status_line} without saying "
                             f"Connection: close ({e})") from None
    assert r2.status == 200, f"the request after {r.status_line} on the same connection: {r2!r}"


# --------------------------------------------------------------------------------------------------------------
# WebSocket client
# --------------------------------------------------------------------------------------------------------------

def ws_handshake(c: HttpConn, target: str = "/ws") -> Response:
    key = base64.b64encode(os.urandom(16)).decode()
    r = c.request("GET", target, [("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                  ("Sec-WebSocket-Key", key), ("Sec-WebSocket-Version", "13")])
    assert r.status == 101, f"expected 101 Switching Protocols, got {r!r}"
    assert r.header("sec-websocket-accept") == ws_accept(key), f"bad Sec-WebSocket-Accept in {r!r}"
    assert "websocket" in (r.header("upgrade") or "").lower(), f"no Upgrade: websocket in {r!r}"
    return r


def ws_send(c: HttpConn, opcode: int, data: bytes):
    c.send(ws_frame(opcode, data, mask=True))


def ws_recv(c: HttpConn, timeout: float = 5.0) -> tuple[int, bytes]:
    """One frame from the server: (opcode, payload). Fails if the server masked it."""
    dl = Deadline(timeout)
    b0, b1 = c.read_exact(2, dl, "a WebSocket frame header")
    n = b1 & 0x7F
    assert not (b1 & 0x80), "a server-to-client frame must not be masked"
    if n == 126:
        (n,) = struct.unpack("!H", c.read_exact(2, dl, "frame length"))
    elif n == 127:
        (n,) = struct.unpack("!Q", c.read_exact(8, dl, "frame length"))
    return b0 & 0x0F, c.read_exact(n, dl, "frame payload")


# --------------------------------------------------------------------------------------------------------------
# curl
# --------------------------------------------------------------------------------------------------------------

@dataclass
class CurlResult:
    code: int
    num_connects: int
    size_download: int  # body bytes curl received
    headers: list[tuple[str, str]]
    body: bytes
    stderr: str

    def header(self, name: str) -> str | None:
        n = name.lower()
        vals = [v for k, v in self.headers if k.lower() == n]
        return ", ".join(vals) if vals else None


def curl(url: str, *args: str, tmp, timeout: float = 20.0) -> list[CurlResult]:
    """Run one curl process. `url` may hold several URLs separated by spaces: curl then reuses its connection
    (keep-alive). `args` are extra curl options. Returns one result per URL (final response head, body, status,
    %{num_connects}, %{size_download})."""
    urls = url.split()
    out_files = [tmp / f"curl-body-{random.getrandbits(32):08x}-{i}" for i in range(len(urls))]
    hdr_file = tmp / f"curl-headers-{random.getrandbits(32):08x}"
    cmd = ["curl", "-sS", "--max-time", str(timeout), "-D", str(hdr_file), *args]
    wfmt = "%{http_code} %{num_connects} %{size_download}\\n"
    for u, o in zip(urls, out_files):
        cmd += ["-o", str(o), "-w", wfmt, u]
    p = subprocess.run(cmd, capture_output=True, timeout=timeout + 5)
    if p.returncode != 0:
        raise AssertionError(f"curl failed (rc={p.returncode}): {p.stderr.decode(errors='replace')} cmd={cmd}")
    stats = [ln.split() for ln in p.stdout.decode().splitlines() if ln.strip()]
    blocks = _header_blocks(hdr_file.read_bytes())
    results = []
    for i, (code, nconn, size) in enumerate(stats):
        body = out_files[i].read_bytes() if out_files[i].exists() else b""
        hdrs = blocks[i] if i < len(blocks) else []
        results.append(CurlResult(int(code), int(nconn), int(size), hdrs, body, p.stderr.decode(errors="replace")))
    return results


def _header_blocks(raw: bytes) -> list[list[tuple[str, str]]]:
    """curl -D writes every response head (1xx included); keep the final head of each transfer."""
    blocks = []
    for part in raw.split(b"\r\n\r\n"):
        lines = part.strip(b"\r\n").split(b"\r\n")
        if not lines or not lines[0].startswith(b"HTTP/"):
            continue
        status = int(lines[0].split()[1])
        if 100 <= status < 200:
            continue
        hs = []
        for ln in lines[1:]:
            k, _, v = ln.partition(b":")
            hs.append((k.decode("latin-1"), v.strip().decode("latin-1")))
        blocks.append(hs)
    return blocks
