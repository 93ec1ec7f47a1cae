"""Heap allocations per proxied request in steady state (STYLE.md §9, PRODUCT.md performance targets): sluice runs
under an LD_PRELOAD malloc counter (bench/tools/alloc_count.c, built here with the system C compiler); after a
warm-up, a fixed number of keep-alive requests must not grow the count beyond the threshold kept in
bench/alloc-threshold (0 per request). A count, not a timing: the result is the same on a loaded machine."""

import os
import shutil
import struct
import subprocess

import pytest

from conftest import REPO, base_config
from httpclient import HttpConn

THRESHOLD_FILE = REPO / "bench" / "alloc-threshold"


def allocations(path) -> int:
    with open(path, "rb") as f:
        return struct.unpack("<Q", f.read(8))[0]


@pytest.mark.sluice_only("measures sluice's own allocations")
@pytest.mark.parametrize("mode", ["http", "tcp"])
def test_no_allocation_per_request_in_steady_state(sluice, backends, fe, tmp_path, mode):
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build the malloc counter")
    lib = tmp_path / "alloc_count.so"
    subprocess.run([cc, "-O2", "-shared", "-fPIC", "-o", str(lib), str(REPO / "bench/tools/alloc_count.c"), "-ldl"],
                   check=True)
    counter = tmp_path / "count"
    be = backends.http()
    cfg = base_config(defaults_extra=f"    mode {mode}\n") + f"""
frontend fe
    bind "fd@${{FE1}}"
    default_backend be

backend be
    server s1 {be.addr}
"""
    sl = sluice(cfg, fds={"FE1": fe()}, extra_env={"LD_PRELOAD": str(lib), "ALLOC_COUNT_FILE": str(counter)})
    port = sl.ports["FE1"]
    conns = [HttpConn(port) for _ in range(4)]
    try:
        for _ in range(100):  # warm-up: pools, buffers and tables reach their working size
            for c in conns:
                assert c.request("GET", "/warm").status == 200
        before = allocations(counter)
        assert before > 0, "the malloc counter saw nothing: LD_PRELOAD did not take effect"
        requests = 2000
        for i in range(requests // len(conns)):
            for c in conns:
                assert c.request("GET", f"/r{i}").status == 200
        grown = allocations(counter) - before
    finally:
        for c in conns:
            c.close()
    threshold = float(THRESHOLD_FILE.read_text().split()[0])
    assert grown <= threshold * requests, \
        f"{mode}: {grown} heap allocations over {requests} keep-alive requests (threshold {threshold} per request)"
