"""Server selection: connect failures (retries, redispatch) and round robin."""

import collections
import concurrent.futures
import time

from conftest import base_config, connect, echo_roundtrip, recv_until_eof


def test_refused_backend_closes_client_promptly(sluice, backends, fe):
    dead = backends.refused()
    cfg = base_config() + f"""
frontend fe
    bind "fd@${{FE1}}"
    default_backend be

backend be
    timeout connect 1s
    retries 1
    server dead {dead}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    for attempt in range(2):  # twice: the first failure must not leave the proxy in a bad state
        t0 = time.monotonic()
        with connect(sl.ports["FE1"]) as c:
            c.sendall(b"hello?\n")
            # EOF or RST are both a close; any byte is a failure.
            data = recv_until_eof(c, timeout=4.0, reset_ok=True)
        elapsed = time.monotonic() - t0
        assert data == b"", f"attempt {attempt}: expected no data from a refused backend, got {data[:80]!r}"
        assert elapsed < 4.0, f"attempt {attempt}: client closed after {elapsed:.2f}s, expected < 4s"
    assert sl.alive(), "sluice died after a refused backend"


def test_refused_server_redispatched_to_live_one(sluice, backends, fe):
    """One refused server, one live; `retries 2` + `option redispatch`: every client ends up on the live one."""
    dead = backends.refused()
    live = backends.echo("live")
    cfg = base_config() + f"""
frontend fe
    bind "fd@${{FE1}}"
    default_backend be

backend be
    balance roundrobin
    timeout connect 1s
    retries 2
    option redispatch
    server dead {dead}
    server live {live.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    port = sl.ports["FE1"]

    def one(i: int) -> tuple[bytes, bytes, float]:
        payload = b"client %02d says hi\n" % i
        t0 = time.monotonic()
        return payload, echo_roundtrip(port, payload, timeout=8.0), time.monotonic() - t0

    # Concurrently: half of them first go to the refused server and wait ~1 s between retries.
    with concurrent.futures.ThreadPoolExecutor(10) as pool:
        results = list(pool.map(one, range(10)))
    for payload, got, elapsed in results:
        assert got == payload, f"expected {payload!r} echoed by the live server, got {got!r} after {elapsed:.2f}s"
    live.wait(lambda: live.accepted == 10, 5, "10 connections on the live server")


def tag_of(port: int) -> str:
    with connect(port) as c:
        return recv_until_eof(c, 5).decode().strip()


def test_roundrobin_alternates(sluice, backends, fe):
    s1 = backends.tag("s1")
    s2 = backends.tag("s2")
    cfg = base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    balance roundrobin
    server s1 {s1.addr}
    server s2 {s2.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    names = [tag_of(sl.ports["FE1"]) for _ in range(10)]
    assert set(names) == {"s1", "s2"}, f"expected answers from s1 and s2, got {names}"
    repeats = [i for i in range(1, 10) if names[i] == names[i - 1]]
    assert not repeats, f"round robin must alternate strictly, got {names} (repeat at {repeats})"


def test_roundrobin_weights(sluice, backends, fe):
    s1 = backends.tag("s1")
    s2 = backends.tag("s2")
    cfg = base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    balance roundrobin
    server s1 {s1.addr} weight 2
    server s2 {s2.addr} weight 1
"""
    sl = sluice(cfg, fds={"FE1": fe()})
    names = [tag_of(sl.ports["FE1"]) for _ in range(30)]
    counts = collections.Counter(names)
    assert counts == {"s1": 20, "s2": 10}, f"weights 2:1 over 30 connections: expected s1=20 s2=10, got " \
                                           f"{dict(counts)} (sequence {names})"
