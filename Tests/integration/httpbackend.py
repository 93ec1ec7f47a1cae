"""A small, real HTTP/1.1 origin server for the HTTP-mode integration tests, and a WebSocket echo on the same port.

It runs on the harness's asyncio `Backend` (127.0.0.1:0, connection counts under a Condition) and adds:

  * a strict-enough request parser (request line, headers, Content-Length / chunked bodies with trailers,
    `Expect: 100-continue`); anything it cannot parse is recorded as a request with `error` set and the
    connection is closed, so a smuggled or mangled request shows up in the log instead of vanishing;
  * a log of every request it received (`requests`), in arrival order, each tagged with its backend connection
    and its sequence number on that connection; per connection: request count and whether the proxy closed it;
  * behaviour chosen by the request's query string (so curl can drive it too):
        status=N        status code (default 200); 204 and 304 carry no body, HEAD gets the headers only
        body=echo       the response body is the request body (default: a JSON echo of the request)
        size=N          the response body is N deterministic pseudo-random bytes (sha256 in X-Body-Sha256)
        chunked=1       send the body chunked (random chunk sizes, a trailer X-Trailer-Sha256)
        untilclose=1    no Content-Length, no chunking: `Connection: close`, the body, then close
        close=1         answer with `Connection: close` and close after the response
        noanswer=1      read the request, close without a byte
        garbage=1       answer with bytes that are not HTTP, then close
        hang=1          never answer (wait for the peer to close)
        delay=MS        wait before answering
        drip=MS         slow writer: the body in 1 KB pieces, MS between them
        slowread=MS     slow reader: the request body in 4 KB reads, MS between them
        pauseread=N:MS  reader that stalls in pauses: the request body in 64 KB reads, a pause of MS after every
                        N bytes (a large upload fills every buffer on the way, then drains, again and again)
        hdr=Name:Value  an extra response header (repeatable)
        headapart=1     write the head and the body separately (over TLS the body then starts a new record, so
                        a body that is a multiple of 16 KB ends with a full record)
    Every response carries X-Backend (the backend's name), X-Conn (connection index), X-Seq (request index on
    that connection) and X-Req-Body-Sha256 (sha256 of the request body it read).
  * `Upgrade: websocket` requests get an RFC 6455 handshake (101) and the connection becomes a frame echo:
    text/binary echoed with the same opcode (unmasked, as a server must), ping answered by pong, close echoed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import random
import re
import socket
import struct
import urllib.parse
from dataclasses import dataclass, field

from conftest import Backend, ConnInfo

TOKEN = re.compile(rb"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
REQUEST_LINE = re.compile(rb"^([!#$%&'*+\-.^_`|~0-9A-Za-z]+) ([^ \x00-\x1f\x7f]+) HTTP/(\d)\.(\d)$")
WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MAX_HEAD = 256 * 1024


class BadRequest(Exception):
    pass


@dataclass
class Request:
    """One request as the backend received it (or failed to parse it: `error` set)."""

    conn: int
    seq: int
    method: str = ""
    target: str = ""
    version: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    raw_head: bytes = b""
    body_len: int = 0
    body_sha: str = hashlib.sha256(b"").hexdigest()
    chunked: bool = False
    trailers: list[tuple[str, str]] = field(default_factory=list)
    error: str | None = None

    @property
    def path(self) -> str:
        return self.target.split("?", 1)[0]

    @property
    def query(self) -> dict[str, list[str]]:
        return urllib.parse.parse_qs(urllib.parse.urlsplit(self.target).query, keep_blank_values=True)

    def header(self, name: str) -> str | None:
        """All values of `name` joined with ', ' (None if absent)."""
        vals = self.header_all(name)
        return ", ".join(vals) if vals else None

    def header_all(self, name: str) -> list[str]:
        n = name.lower()
        return [v for k, v in self.headers if k.lower() == n]

    def has(self, name: str) -> bool:
        return bool(self.header_all(name))

    def line(self) -> str:
        return f"{self.method} {self.target} HTTP/{self.version}" if not self.error else f"<error: {self.error}>"

    def as_json(self, backend: str) -> dict:
        return {"backend": backend, "conn": self.conn, "seq": self.seq, "method": self.method,
                "target": self.target, "version": self.version, "headers": self.headers,
                "body_len": self.body_len, "body_sha256": self.body_sha, "chunked": self.chunked,
                "trailers": self.trailers}


def payload(size: int, seed: int = 1) -> bytes:
    """Deterministic pseudo-random bytes (the same for a given size and seed in the test and the backend)."""
    return random.Random(seed * 1_000_003 + size).randbytes(size)


def ws_accept(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + WS_GUID).digest()).decode()


class HttpBackend(Backend):
    """An HTTP/1.1 server (see the module docstring). `requests` is the ordered log of what it received."""

    def __init__(self, name: str = "http", ssl=None):
        self.requests: list[Request] = []
        self.ws_messages: list[tuple[int, bytes]] = []  # (opcode, payload) of every data frame received
        self.ws_errors: list[str] = []
        # Query parameters applied to every request that does not set them (e.g. "delay=100": a slow server).
        self.default_query = ""
        super().__init__(_serve, name, ssl=ssl)

    # ---- queries for tests (all under the Condition) ----
    def seen(self) -> list[Request]:
        with self.cond:
            return list(self.requests)

    def lines(self) -> list[str]:
        return [r.line() for r in self.seen()]

    def wait_requests(self, n: int, timeout: float = 5.0):
        self.wait(lambda: len(self.requests) >= n, timeout, f"{n} request(s) received (got {self.lines()})")

    def conn_requests(self) -> list[int]:
        """Requests received on each backend connection, in connection order."""
        with self.cond:
            return [getattr(c, "requests", 0) for c in self.conns]


def _record(backend: HttpBackend, req: Request) -> None:
    with backend.cond:
        backend.requests.append(req)
        backend.cond.notify_all()


async def _read_head(backend: HttpBackend, conn: ConnInfo, reader: asyncio.StreamReader) -> bytes | None:
    """The request head up to and including the blank line; None on a clean EOF before any byte."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.IncompleteReadError as e:
        with backend.cond:
            conn.saw_eof = True
            backend.cond.notify_all()
        if e.partial:
            raise BadRequest(f"EOF inside a request head: {e.partial[:200]!r}")
        return None
    except asyncio.LimitOverrunError:
        raise BadRequest("request head larger than the backend's limit")
    with backend.cond:
        conn.received += len(head)
        backend.cond.notify_all()
    return head


def _parse_head(req: Request, head: bytes) -> None:
    req.raw_head = head
    lines = head[:-4].split(b"\r\n")
    m = REQUEST_LINE.match(lines[0])
    if not m:
        raise BadRequest(f"bad request line {lines[0][:200]!r}")
    req.method, req.target = m.group(1).decode(), m.group(2).decode("latin-1")
    req.version = f"{m.group(3).decode()}.{m.group(4).decode()}"
    for raw in lines[1:]:
        name, sep, value = raw.partition(b":")
        if not sep or not TOKEN.match(name):
            raise BadRequest(f"bad header line {raw[:200]!r}")
        value = value.strip(b" \t")
        if any(c in value for c in b"\x00\r\n"):
            raise BadRequest(f"bad header value {raw[:200]!r}")
        req.headers.append((name.decode(), value.decode("latin-1")))


async def _read_body(backend, conn, req: Request, reader, slowread: float, keep: list[bytes] | None = None,
                     pause: tuple[int, float] | None = None) -> None:
    """Read the request body per its framing, hashing it; with `keep`, also collect the bytes. `pause` (bytes,
    seconds): stop reading for that long after every that many bytes."""
    te = req.header("transfer-encoding")
    cls = req.header_all("content-length")
    if te is not None and cls:
        raise BadRequest("both Transfer-Encoding and Content-Length reached the server")
    h = hashlib.sha256()
    n = 0

    since_pause = 0

    async def take(k: int) -> bytes:
        nonlocal since_pause
        data = await reader.readexactly(k)
        with backend.cond:
            conn.received += len(data)
        if pause:
            since_pause += len(data)
            if since_pause >= pause[0]:
                since_pause = 0
                await asyncio.sleep(pause[1])
        return data

    if te is not None:
        if te.lower() != "chunked":
            raise BadRequest(f"Transfer-Encoding {te!r} reached the server")
        req.chunked = True
        while True:
            line = await reader.readuntil(b"\r\n")
            size_txt = line[:-2].split(b";", 1)[0].strip()
            if not size_txt or not re.fullmatch(rb"[0-9A-Fa-f]{1,15}", size_txt):
                raise BadRequest(f"bad chunk size line {line[:100]!r}")
            size = int(size_txt, 16)
            if size == 0:
                break
            left = size
            while left:
                part = await take(min(left, 4096 if slowread else 65536))
                h.update(part)
                if keep is not None:
                    keep.append(part)
                n += len(part)
                left -= len(part)
                if slowread:
                    await asyncio.sleep(slowread)
            if await reader.readexactly(2) != b"\r\n":
                raise BadRequest("chunk data not followed by CRLF")
        while True:  # trailers
            line = await reader.readuntil(b"\r\n")
            if line == b"\r\n":
                break
            k, _, v = line[:-2].partition(b":")
            req.trailers.append((k.decode("latin-1").strip(), v.decode("latin-1").strip()))
    elif cls:
        if len(set(cls)) != 1 or not cls[0].isdigit():
            raise BadRequest(f"bad Content-Length {cls!r} reached the server")
        left = int(cls[0])
        while left:
            part = await take(min(left, 4096 if slowread else 65536))
            h.update(part)
            if keep is not None:
                keep.append(part)
            n += len(part)
            left -= len(part)
            if slowread:
                await asyncio.sleep(slowread)
    req.body_len = n
    req.body_sha = h.hexdigest()


def _chunked(body: bytes, rng: random.Random) -> list[bytes]:
    out = []
    i = 0
    while i < len(body):
        k = min(len(body) - i, rng.choice([1, 7, 100, 1000, 4096, 16384, 65536]))
        out.append(b"%x\r\n" % k + body[i:i + k] + b"\r\n")
        i += k
    return out


async def _respond(backend: HttpBackend, conn: ConnInfo, req: Request, writer, body_in: bytes | None,
                   q: dict[str, list[str]], client_close: bool) -> bool:
    """Write the response chosen by the query string. Returns True if the connection must close."""
    status = int(q.get("status", ["200"])[0])
    close = client_close or "close" in q
    untilclose = "untilclose" in q
    chunked = "chunked" in q
    drip = int(q.get("drip", ["0"])[0]) / 1000
    if "size" in q:
        body = payload(int(q["size"][0]))
        ctype = "application/octet-stream"
    elif q.get("body") == ["echo"]:
        body = body_in or b""
        ctype = "application/octet-stream"
    else:
        body = json.dumps(req.as_json(backend.name)).encode() + b"\n"
        ctype = "application/json"
    reason = {200: "OK", 201: "Created", 204: "No Content", 304: "Not Modified", 404: "Not Found",
              500: "Internal Server Error"}.get(status, "Whatever")
    no_body = status in (204, 304) or 100 <= status < 200
    hdrs = [f"HTTP/1.1 {status} {reason}", f"X-Backend: {backend.name}", f"X-Conn: {conn.index}",
            f"X-Seq: {req.seq}", f"X-Req-Body-Sha256: {req.body_sha}"]
    if not no_body:
        hdrs.append(f"Content-Type: {ctype}")
        hdrs.append(f"X-Body-Sha256: {hashlib.sha256(body).hexdigest()}")
        if untilclose:
            close = True
        elif chunked:
            hdrs.append("Transfer-Encoding: chunked")
        else:
            hdrs.append(f"Content-Length: {len(body)}")
    for h in q.get("hdr", []):
        hdrs.append(h.replace(":", ": ", 1) if ": " not in h else h)
    if close:
        hdrs.append("Connection: close")
    head = ("\r\n".join(hdrs) + "\r\n\r\n").encode("latin-1")
    if no_body or req.method == "HEAD":
        writer.write(head)
    else:
        if chunked and not untilclose:
            pieces = _chunked(body, random.Random(len(body)))
            pieces.append(b"0\r\nX-Trailer-Sha256: %s\r\n\r\n" % hashlib.sha256(body).hexdigest().encode())
        elif drip:
            pieces = [body[i:i + 1024] for i in range(0, len(body), 1024)] or [b""]
        else:
            pieces = [body]
        if "headapart" in q:
            pieces.insert(0, head)  # two writes: over TLS the body starts on a record boundary
        else:
            pieces[0] = head + pieces[0]  # one write for head and (first part of the) body
        for p in pieces:
            writer.write(p)
            await writer.drain()
            if drip:
                await asyncio.sleep(drip)
    await writer.drain()
    return close


async def _serve(backend: HttpBackend, conn: ConnInfo, reader: asyncio.StreamReader,
                 writer: asyncio.StreamWriter) -> None:
    conn.requests = 0
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    while True:
        req = Request(conn=conn.index, seq=conn.requests)
        try:
            head = await _read_head(backend, conn, reader)
            if head is None:
                return
            _parse_head(req, head)
        except BadRequest as e:
            req.error = str(e)
            _record(backend, req)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        q = req.query
        for key, values in urllib.parse.parse_qs(backend.default_query, keep_blank_values=True).items():
            q.setdefault(key, values)
        if "websocket" in (req.header("upgrade") or "").lower():
            conn.requests += 1
            _record(backend, req)
            await _websocket(backend, conn, req, reader, writer)
            return
        if "100-continue" in (req.header("expect") or "").lower():
            writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
            await writer.drain()
        slowread = int(q.get("slowread", ["0"])[0]) / 1000
        pause = None
        if "pauseread" in q:
            n, ms = q["pauseread"][0].split(":")
            pause = (int(n), int(ms) / 1000)
        keep: list[bytes] | None = [] if q.get("body") == ["echo"] else None
        try:
            await _read_body(backend, conn, req, reader, slowread, keep, pause)
        except BadRequest as e:
            req.error = str(e)
            _record(backend, req)
            writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            await writer.drain()
            return
        except asyncio.IncompleteReadError:
            req.error = "EOF inside the request body"
            _record(backend, req)
            return
        conn.requests += 1
        _record(backend, req)
        conn_hdr = (req.header("connection") or "").lower()
        client_close = "close" in conn_hdr or (req.version == "1.0" and "keep-alive" not in conn_hdr)
        if "delay" in q:
            await asyncio.sleep(int(q["delay"][0]) / 1000)
        if "noanswer" in q:
            return
        if "garbage" in q:
            writer.write(b"this is not HTTP at all\r\n\x00\x01\x02\r\n\r\n")
            await writer.drain()
            return
        if "hang" in q:
            while await reader.read(65536):
                pass
            with backend.cond:
                conn.saw_eof = True
                backend.cond.notify_all()
            return
        body_in = b"".join(keep) if keep is not None else None
        if await _respond(backend, conn, req, writer, body_in, q, client_close):
            return


# --------------------------------------------------------------------------------------------------------------
# WebSocket (RFC 6455), the minimum: handshake, frames with 7/16/64-bit lengths, masking, ping/pong, close
# --------------------------------------------------------------------------------------------------------------

def ws_frame(opcode: int, data: bytes, mask: bool, fin: bool = True) -> bytes:
    b0 = (0x80 if fin else 0) | opcode
    n = len(data)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not mask:
        return head + data
    key = random.randbytes(4)
    return head + key + ws_mask(data, key)


def ws_mask(data: bytes, key: bytes) -> bytes:
    if not data:
        return b""
    k = (key * (len(data) // 4 + 1))[:len(data)]
    return (int.from_bytes(data, "big") ^ int.from_bytes(k, "big")).to_bytes(len(data), "big")


async def _ws_read_frame(reader: asyncio.StreamReader) -> tuple[bool, int, bool, bytes]:
    b0, b1 = await reader.readexactly(2)
    fin, opcode, masked, n = bool(b0 & 0x80), b0 & 0x0F, bool(b1 & 0x80), b1 & 0x7F
    if n == 126:
        (n,) = struct.unpack("!H", await reader.readexactly(2))
    elif n == 127:
        (n,) = struct.unpack("!Q", await reader.readexactly(8))
    key = await reader.readexactly(4) if masked else b""
    data = await reader.readexactly(n)
    return fin, opcode, masked, ws_mask(data, key) if masked else data


async def _websocket(backend: HttpBackend, conn: ConnInfo, req: Request, reader, writer) -> None:
    key = req.header("sec-websocket-key")
    conn_tokens = [t.strip().lower() for t in (req.header("connection") or "").split(",")]
    if not key or "upgrade" not in conn_tokens or req.header("sec-websocket-version") != "13":
        backend.ws_errors.append(f"bad handshake: {req.headers}")
        writer.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        return
    writer.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  f"Sec-WebSocket-Accept: {ws_accept(key)}\r\n\r\n").encode())
    await writer.drain()
    while True:
        try:
            fin, opcode, masked, data = await _ws_read_frame(reader)
        except asyncio.IncompleteReadError:
            with backend.cond:
                conn.saw_eof = True
                backend.cond.notify_all()
            return
        if not masked:
            backend.ws_errors.append(f"unmasked client frame opcode {opcode}")
            return
        if opcode == 0x8:  # close: echo it, then close
            writer.write(ws_frame(0x8, data, mask=False))
            await writer.drain()
            return
        if opcode == 0x9:  # ping -> pong
            writer.write(ws_frame(0xA, data, mask=False))
        elif opcode in (0x0, 0x1, 0x2):
            with backend.cond:
                backend.ws_messages.append((opcode, data))
                backend.cond.notify_all()
            writer.write(ws_frame(opcode, data, mask=False, fin=fin))
        await writer.drain()
