#!/usr/bin/env python3
"""Memory per idle keep-alive connection: opens N connections to a proxy, sends one request on each and reads
its response, keeps them all open, and prints the proxy's RSS growth divided by N.

Usage: idle_conns.py PID PORT N [https]
Prints: rss_before_kb rss_after_kb bytes_per_connection
"""
import resource
import select
import socket
import ssl
import sys
import time

pid, port, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
use_tls = len(sys.argv) > 4 and sys.argv[4] == "https"
resource.setrlimit(resource.RLIMIT_NOFILE, (n + 200, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))


def rss_kb() -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


REQUEST = b"GET / HTTP/1.1\r\nHost: bench\r\n\r\n"
ctx = None
if use_tls:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE

before = rss_kb()
conns = []
deadline = time.monotonic() + 120
for i in range(n):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if ctx:
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(REQUEST)
    got = b""
    while b"\r\n\r\n" not in got or not got.endswith(b"\n"):
        chunk = s.recv(4096)
        if not chunk:
            break
        got += chunk
        if b"hello world\n" in got:
            break
    conns.append(s)
    if time.monotonic() > deadline:
        break
time.sleep(1.0)  # let the proxy finish bookkeeping for the last connections (RSS is sampled, not waited on)
after = rss_kb()
print(before, after, round((after - before) * 1024 / max(1, len(conns))))
for s in conns:
    s.close()
