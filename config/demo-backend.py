#!/usr/bin/env python3
"""Demo backend for `make run`: a tiny HTTP/1.1 server that says which instance answered.

Usage: demo-backend.py NAME PORT   (listens on 127.0.0.1 only)
GET  /        -> "hello from NAME\n"
POST /echo    -> the request body
"""
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME, PORT = sys.argv[1], int(sys.argv[2])


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _reply(self, body: bytes, ctype: str = "text/plain") -> None:
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Served-By", NAME)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self) -> None:
        self._reply(f"hello from {NAME}\n".encode())

    do_HEAD = do_GET

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        self._reply(self.rfile.read(length), self.headers.get("Content-Type", "application/octet-stream"))

    def log_message(self, fmt: str, *args) -> None:
        sys.stderr.write(f"[{NAME}] {self.address_string()} {fmt % args}\n")


ThreadingHTTPServer.allow_reuse_address = True
ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
