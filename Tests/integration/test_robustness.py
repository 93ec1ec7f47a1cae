"""Bad clients never kill the daemon."""

import os

from conftest import base_config, connect, echo_roundtrip, rst_close


def listen_cfg(be_addr: str) -> str:
    return base_config() + f"""
listen app
    bind "fd@${{FE1}}"
    server s1 {be_addr}
"""


def test_100_immediate_resets(sluice, backends, fe):
    be = backends.echo()
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    for i in range(100):
        c = connect(port)
        if i % 2:
            c.sendall(b"some bytes then a reset\n")
        rst_close(c)  # SO_LINGER 0: RST
    got = echo_roundtrip(port, b"still there?\n")
    assert got == b"still there?\n", f"echo after 100 resets: expected b'still there?\\n', got {got!r}"
    assert sl.alive(), f"sluice exited (rc={sl.proc.returncode}) after clients reset their connections"
    be.wait(lambda: be.current == 0, 10, "every server connection of the reset clients closed")


def test_client_gone_before_the_reply(sluice, backends, fe):
    """Clients send 256 KB and close without reading: the proxy writes to a dead socket (EPIPE/ECONNRESET,
    SIGPIPE if it forgot MSG_NOSIGNAL)."""
    be = backends.echo()
    sl = sluice(listen_cfg(be.addr), fds={"FE1": fe()})
    port = sl.ports["FE1"]
    blob = os.urandom(256 * 1024)
    for i in range(20):
        c = connect(port)
        c.sendall(blob[:1024])
        # Once the server has bytes, the session is established: the echo will flow towards a closed client.
        be.wait(lambda: be.accepted == i + 1 and be.conns[i].received > 0, 5, f"server connection {i} has data")
        c.sendall(blob[1024:])
        c.close()  # unread echo in the receive buffer: the kernel answers with RST
    be.wait(lambda: be.accepted == 20 and be.current == 0, 10, "20 server connections, all closed")
    got = echo_roundtrip(port, b"still there?\n")
    assert got == b"still there?\n", f"echo after dead clients: expected b'still there?\\n', got {got!r}"
    assert sl.alive(), f"sluice exited (rc={sl.proc.returncode}) after writing to closed clients"
