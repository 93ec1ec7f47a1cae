#!/usr/bin/env python3
"""Reload figures for issue 5's closing note (run through bench/reload.sh). Loopback only, bounded (about 20 s).

  (a) time from SIGHUP to READY=1 on a notify socket this script owns, for a config with N backends (default
      1,000), median of 5 reloads (every round printed);
  (b) sluice's VmRSS before and after 10 reloads of that config (it must not grow), then after 40 more;
  (c) errors seen by wrk (1 thread, 50 keep-alive connections) across 3 reloads that move the server between
      two nginx backends: HTTP mode when the binary supports it (`sluice -c` accepts `mode http`), otherwise TCP
      mode in front of nginx (as bench/run.sh).

Figures, not assertions: the exit code is 0 unless something could not be measured."""

import argparse
import os
import re
import select
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SLUICE = os.path.abspath(os.environ.get("SLUICE_BIN") or os.path.join(HERE, "..", ".build", "release", "sluice"))


def free_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_port(port: int, timeout: float = 10.0) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)  # polling a port that has no other readiness signal
    raise SystemExit(f"port {port} not listening after {timeout}s")


class Sluice:
    def __init__(self, workdir: str, config: str):
        self.cfg = os.path.join(workdir, "sluice.cfg")
        with open(self.cfg, "w") as f:
            f.write(config)
        self.notify_path = os.path.join(tempfile.mkdtemp(prefix="slb-", dir="/tmp"), "notify")
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(self.notify_path)
        env = dict(os.environ, NOTIFY_SOCKET=self.notify_path)
        for k in ("LISTEN_FDS", "LISTEN_PID", "WATCHDOG_USEC"):
            env.pop(k, None)
        self.err = open(os.path.join(workdir, "sluice.stderr"), "wb")
        self.proc = subprocess.Popen([SLUICE, "-q", "-f", self.cfg], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=self.err, env=env, start_new_session=True)
        self.wait_line(b"READY=1", 30)

    def wait_line(self, line: bytes, timeout: float) -> None:
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                raise SystemExit(f"no {line.decode()} from sluice (rc={self.proc.poll()}); see its stderr")
            r, _, _ = select.select([self.notify], [], [], min(left, 0.5))
            if r and line in self.notify.recv(65536).split(b"\n"):
                return

    def reload(self, config: str | None = None) -> float:
        """SIGHUP -> RELOADING=1 -> READY=1; returns milliseconds from the signal to READY=1."""
        if config is not None:
            with open(self.cfg + ".new", "w") as f:
                f.write(config)
            os.replace(self.cfg + ".new", self.cfg)
        t0 = time.monotonic()
        os.kill(self.proc.pid, signal.SIGHUP)
        self.wait_line(b"RELOADING=1", 30)
        self.wait_line(b"READY=1", 30)
        return (time.monotonic() - t0) * 1000

    def rss_kb(self) -> int:
        with open(f"/proc/{self.proc.pid}/status") as f:
            return int(re.search(r"VmRSS:\s+(\d+) kB", f.read()).group(1))

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.notify.close()
        shutil.rmtree(os.path.dirname(self.notify_path), ignore_errors=True)
        self.err.close()


def many_backends(n: int, port: int, server_port: int) -> str:
    lines = ["global", "    maxconn 8000", "    nbthread 1", "defaults", "    mode tcp", "    timeout connect 5s",
             "    timeout client 30s", "    timeout server 30s", "frontend fe", f"    bind 127.0.0.1:{port}",
             "    default_backend b0"]
    for i in range(n):
        lines += [f"backend b{i}", f"    server s1 127.0.0.1:{server_port}", f"    server s2 127.0.0.1:{server_port + 1}"]
    return "\n".join(lines) + "\n"


def http_supported(workdir: str) -> bool:
    probe = os.path.join(workdir, "probe.cfg")
    with open(probe, "w") as f:
        f.write("global\n    nbthread 1\ndefaults\n    mode http\n    timeout connect 1s\n    timeout client 1s\n"
                "    timeout server 1s\nfrontend fe\n    bind 127.0.0.1:8080\n    default_backend be\n"
                "backend be\n    server s1 127.0.0.1:9\n")
    return subprocess.run([SLUICE, "-c", "-q", "-f", probe], capture_output=True, timeout=10).returncode == 0


def start_nginx(workdir: str, ports: list[int]) -> str:
    tmp = os.path.join(workdir, "ngx-tmp")
    os.makedirs(tmp, exist_ok=True)
    servers = "".join(f'server {{ listen 127.0.0.1:{p} backlog=4096; keepalive_requests 1000000; '
                      f'location / {{ return 200 "hello from {p}\\n"; }} }}\n' for p in ports)
    conf = os.path.join(workdir, "nginx.conf")
    pid = os.path.join(workdir, "nginx.pid")
    with open(conf, "w") as f:
        f.write(f"worker_processes 1; pid {pid}; error_log {workdir}/nginx.err; daemon on;\n"
                f"events {{ worker_connections 4096; }}\n"
                f"http {{ access_log off; client_body_temp_path {tmp}; proxy_temp_path {tmp}; "
                f"fastcgi_temp_path {tmp}; uwsgi_temp_path {tmp}; scgi_temp_path {tmp};\n{servers}}}\n")
    subprocess.run(["nginx", "-c", conf, "-e", f"{workdir}/nginx.err"], check=True, timeout=10)
    for p in ports:
        wait_port(p)
    return pid


def load_config(mode: str, port: int, server_port: int) -> str:
    return (f"global\n    maxconn 8000\n    nbthread 1\ndefaults\n    mode {mode}\n    timeout connect 5s\n"
            f"    timeout client 30s\n    timeout server 30s\nfrontend fe\n    bind 127.0.0.1:{port}\n"
            f"    default_backend be\nbackend be\n    server s1 127.0.0.1:{server_port}\n")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--backends", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--reloads", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=6, help="wrk duration for (c)")
    args = ap.parse_args()
    if not os.access(SLUICE, os.X_OK):
        print(f"no sluice binary at {SLUICE} (swift build -c release, or set SLUICE_BIN)")
        return 2
    work = tempfile.mkdtemp(prefix="sluice-reload-bench.", dir="/tmp")
    nginx_pid = None
    procs: list[Sluice] = []
    try:
        print(f"sluice: {SLUICE}")
        # (a) and (b): N backends, 2 servers each (nothing needs to listen there: no traffic).
        fe_port, dead = free_port(), free_port()
        cfg = many_backends(args.backends, fe_port, dead)
        sl = Sluice(work, cfg)
        procs.append(sl)
        rss_start = sl.rss_kb()
        times = [sl.reload() for _ in range(args.rounds)]
        print(f"(a) SIGHUP -> READY=1, {args.backends} backends / {2 * args.backends} servers, config "
              f"{len(cfg) // 1024} KB: median {statistics.median(times):.1f} ms over {args.rounds} "
              f"(rounds: {', '.join(f'{t:.1f}' for t in times)})")
        rss0 = sl.rss_kb()
        for _ in range(args.reloads):
            sl.reload()
        rss1 = sl.rss_kb()
        for _ in range(4 * args.reloads):
            sl.reload()
        rss2 = sl.rss_kb()
        print(f"(b) VmRSS before / after {args.reloads} / after {5 * args.reloads} reloads: {rss0} / {rss1} / "
              f"{rss2} kB (delta {rss1 - rss0:+d} kB, then {rss2 - rss1:+d} kB); at start, before any reload: "
              f"{rss_start} kB (the first reload briefly holds two configurations)")
        sl.stop()
        procs.clear()

        # (c) wrk across 3 reloads that move s1 between two nginx servers.
        if not shutil.which("wrk") or not shutil.which("nginx"):
            print("(c) skipped: wrk and nginx are needed (make deps-bench)")
            return 0
        be1, be2 = free_port(), free_port()
        nginx_pid = start_nginx(work, [be1, be2])
        mode = "http" if http_supported(work) else "tcp"
        port = free_port()
        sl = Sluice(work, load_config(mode, port, be1))
        procs.append(sl)
        runs = [("keep-alive", [])]
        if mode == "tcp":  # keep-alive tunnels predate the reloads: also open a connection per request
            runs.append(("new connection per request", ["-H", "Connection: close"]))
        for label, extra in runs:
            wrk = subprocess.Popen(["wrk", "-t1", "-c50", f"-d{args.seconds}s", *extra, f"http://127.0.0.1:{port}/"],
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
            took = []
            for i in range(3):
                time.sleep(args.seconds / 4)  # spread the reloads over the wrk run (bench pacing, not a wait)
                took.append(sl.reload(load_config(mode, port, be2 if i % 2 == 0 else be1)))
            out, _ = wrk.communicate(timeout=args.seconds + 30)
            reqs = re.search(r"(\d+) requests in", out)
            sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
            non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
            errors = sum(int(x) for x in sock.groups()) if sock else 0
            print(f"(c) wrk -t1 -c50 -d{args.seconds}s, {mode.upper()} mode"
                  f"{' (no HTTP mode in this binary)' if mode == 'tcp' else ''}, {label}, 3 reloads "
                  f"({', '.join(f'{t:.1f}' for t in took)} ms to READY=1): {reqs.group(1) if reqs else '?'} "
                  f"requests, socket errors {errors} ({sock.group(0) if sock else 'none reported'}), "
                  f"non-2xx {non2xx.group(1) if non2xx else 0}")
        return 0
    finally:
        for p in procs:
            p.stop()
        if nginx_pid and os.path.exists(nginx_pid):
            with open(nginx_pid) as f:
                os.kill(int(f.read().strip()), signal.SIGTERM)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
