#!/usr/bin/env python3
"""Station load: latency from a frame's last byte on the pty to its durable commit, CPU, memory
and durable results per second — `floorgate gateway` beside a plain pyserial gateway
(Benchmarks/peers/pyserial_gateway.py) under the same load, in the same run.

Usage: bench-station.py FLOORGATE_BINARY   (writes a markdown section to stdout)

Load: N simulated Mitutoyo calipers (pseudo-terminals, 9600 8N1 profile), each sending a
reading every 100 ms, staggered, for DURATION seconds; the frame encodes its device and
sequence number, and the time its last byte was written is taken (CLOCK_MONOTONIC) right after
the write. Each gateway keeps, per row, when it read the frame's last byte and when the commit
returned (CLOCK_MONOTONIC ns), so the latencies are measured from outside:
- write → commit: everything the device's reading waits for, fsync included;
- read → commit: the gateway's own share (decode, queue, insert, commit).
Both gateways are also run with their database on tmpfs (/dev/shm), where fsync costs nothing:
that is the latency Floorgate adds excluding fsync. CPU is the gateway's user+system time over
the load window (100 % = one core); RSS is the highest VmRSS seen. Durable results/s: 64 devices
sending as fast as the ports take, the rows committed per second.

pyserial is installed into a throwaway virtual environment: a yardstick, never a dependency.
"""
import json, os, pathlib, signal, sqlite3, statistics, subprocess, sys, tempfile, threading, time, tty, venv

PYSERIAL_VERSION = "3.5"
DURATION = 8.0
COUNTS = [1, 16, 64, 256]
REPOSITORY = pathlib.Path(__file__).resolve().parent.parent
PEER = REPOSITORY / "Benchmarks" / "peers" / "pyserial_gateway.py"


def now_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


def make_ports(count):
    ports = []
    for _ in range(count):
        master, slave = os.openpty()
        tty.setraw(master)
        path = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(master, False)
        ports.append((master, path))
    return ports


def frame(sequence):
    return b"01A+%08.3f\r" % (sequence / 1000)


class Gateway:
    """One gateway process under load: Floorgate's or the peer's."""

    def __init__(self, kind, binary, python, directory, ports):
        self.kind, self.directory = kind, pathlib.Path(directory)
        names = [f"dev-{i}" for i in range(len(ports))]
        if kind == "floorgate":
            self.database = self.directory / "outbox.sqlite"
            devices = "".join(
                f'\n[[device]]\nname = "{name}"\nprofile = "mitutoyo-dp1va-rs232"\npath = "{path}"\n'
                for name, (_, path) in zip(names, ports))
            (self.directory / "station.toml").write_text(
                f'station = "bench"\noperator = "bench"\nrecord_socket = "{self.directory}/no-record.sock"\n'
                f'outbox = "{self.database}"\nprofiles = "{REPOSITORY / "devices"}"\nserial_pattern = "regex:^SN$"\n[page]\nenabled = false\n' + devices)
            command = [binary, "gateway", "--config", str(self.directory / "station.toml"), "--quiet"]
        else:
            self.database = self.directory / "peer.sqlite"
            command = [python, str(PEER), str(self.database)] + [f"{name}={path}" for name, (_, path) in zip(names, ports)]
        self.errors = open(self.directory / "stderr.log", "w")
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.errors)
        self.peak_rss_kb = 0
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self):
        while self._sampling and self.process.poll() is None:
            try:
                for line in open(f"/proc/{self.process.pid}/status"):
                    if line.startswith("VmRSS:"):
                        self.peak_rss_kb = max(self.peak_rss_kb, int(line.split()[1]))
            except OSError:
                pass
            time.sleep(0.05)

    def cpu_seconds(self):
        fields = open(f"/proc/{self.process.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def rows(self):
        db = sqlite3.connect(self.database)
        if self.kind == "floorgate":
            out = []
            for source, result, read_ns, committed_ns in db.execute("SELECT source, result, readNs, committedNs FROM outbox"):
                value = json.loads(result).get("value")
                if value is not None:
                    out.append((source, round(float(value) * 1000), read_ns, committed_ns))
            return out
        return [(s, round(float(v) * 1000), r, c) for s, v, r, c in db.execute("SELECT source, value, read_ns, committed_ns FROM reading")]

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        self._sampling = False


def warm_up(gateway, ports, timeout=30):
    """Sends a reading of sequence 0 on every port, again every 200 ms, until the gateway has
    committed one from each (pyserial flushes a port's input when it opens it)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        for master, _ in ports:
            try:
                os.write(master, frame(0))
            except BlockingIOError:
                pass
        time.sleep(0.2)
        try:
            if len({source for source, _, _, _ in gateway.rows()}) >= len(ports):
                return True
        except sqlite3.Error:
            pass
    return False


def paced_load(ports, duration, first_sequence):
    """Every port sends a reading every 100 ms, staggered; returns {(device, seq): write ns}."""
    written = {}
    count = len(ports)
    start = now_ns() + 50_000_000
    period = 100_000_000
    ticks = int(duration * 10)
    schedule = sorted((start + tick * period + index * period // count, index, first_sequence + tick)
                      for tick in range(ticks) for index in range(count))
    for due, index, sequence in schedule:
        delay = due - now_ns()
        if delay > 0:
            time.sleep(delay / 1e9)
        master = ports[index][0]
        try:
            os.write(master, frame(sequence))
            written[(f"dev-{index}", sequence)] = now_ns()
        except BlockingIOError:
            pass
    return written


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else float("nan")


def run_paced(kind, binary, python, count, database_directory):
    ports = make_ports(count)
    with tempfile.TemporaryDirectory(dir=database_directory) as directory:
        gateway = Gateway(kind, binary, python, directory, ports)
        if not warm_up(gateway, ports):
            gateway.stop()
            raise RuntimeError(f"{kind} with {count} devices did not start")
        cpu_before, wall_before = gateway.cpu_seconds(), time.time()
        written = paced_load(ports, DURATION, 1)
        cpu = (gateway.cpu_seconds() - cpu_before) / (time.time() - wall_before) * 100
        time.sleep(1.0)
        gateway.stop()
        rows = gateway.rows()
    for master, _ in ports:
        os.close(master)
    end_to_end, gateway_share = [], []
    for source, sequence, read_ns, committed_ns in rows:
        written_ns = written.get((source, sequence))
        if written_ns is None or committed_ns is None:
            continue
        end_to_end.append((committed_ns - written_ns) / 1e6)
        gateway_share.append((committed_ns - read_ns) / 1e6)
    return {
        "sent": len(written), "recorded": len(end_to_end), "cpu": cpu, "rss_mb": gateway.peak_rss_kb / 1024,
        "e2e": [percentile(end_to_end, p) for p in (0.5, 0.99, 0.999)],
        "own": [percentile(gateway_share, p) for p in (0.5, 0.99, 0.999)],
    }


def run_flood(kind, binary, python, count=64, duration=5.0):
    """Every port sends as fast as it takes frames; committed rows per second."""
    ports = make_ports(count)
    with tempfile.TemporaryDirectory() as directory:
        gateway = Gateway(kind, binary, python, directory, ports)
        if not warm_up(gateway, ports):
            gateway.stop()
            raise RuntimeError(f"{kind} flood did not start")
        burst = b"".join(frame(n) for n in range(1, 11))
        end = time.time() + duration
        while time.time() < end:
            for master, _ in ports:
                try:
                    os.write(master, burst)
                except BlockingIOError:
                    pass
        time.sleep(1.0)
        gateway.stop()
        commits = sorted(c for _, _, _, c in gateway.rows() if c is not None)
    for master, _ in ports:
        os.close(master)
    window = [c for c in commits if commits[0] + 1e9 <= c <= commits[-1] - 0.5e9]  # steady state
    return len(window) / ((window[-1] - window[0]) / 1e9) if len(window) > 1 else 0.0


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as env_dir:
        venv.create(env_dir, with_pip=True)
        python = str(pathlib.Path(env_dir) / "bin" / "python")
        subprocess.run([python, "-m", "pip", "install", "--quiet", f"pyserial=={PYSERIAL_VERSION}"], check=True)
        results = {}
        for location, database_directory in (("disk", None), ("tmpfs", "/dev/shm")):
            for count in COUNTS:
                for kind in ("floorgate", "pyserial"):
                    results[(location, count, kind)] = run_paced(kind, binary, python, count, database_directory)
        flood = {kind: statistics.median(run_flood(kind, binary, python) for _ in range(3)) for kind in ("floorgate", "pyserial")}

    print("\n## Station load: device frame → durable commit\n")
    print(f"`python3 scripts/bench-station.py FLOORGATE` (run by `make bench`): N simulated Mitutoyo calipers on")
    print(f"pseudo-terminals, each sending a reading every 100 ms for {DURATION:.0f} s, into `floorgate gateway` (release")
    print(f"build, outbox WAL synchronous=FULL, no record: results wait in the outbox) and, in the same run, into")
    print(f"a plain Python gateway (pyserial {PYSERIAL_VERSION}, epoll, SQLite WAL synchronous=FULL, one commit per")
    print("loop pass: Benchmarks/peers/pyserial_gateway.py). Times in ms, CLOCK_MONOTONIC: *write → commit* from")
    print("the frame's last byte written on the pty to the commit's return; *read → commit* the gateway's own")
    print("share. On tmpfs fsync costs nothing: that table is the latency added excluding fsync.\n")
    for location in ("disk", "tmpfs"):
        print(f"### Database on {location}\n")
        print("| devices | gateway | readings sent / committed | write → commit p50 / p99 / p99.9 | read → commit p50 / p99 / p99.9 | CPU % of a core | peak RSS MB |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        for count in COUNTS:
            for kind in ("floorgate", "pyserial"):
                r = results[(location, count, kind)]
                e2e = " / ".join(f"{v:.2f}" for v in r["e2e"])
                own = " / ".join(f"{v:.2f}" for v in r["own"])
                print(f"| {count} | {kind} | {r['sent']} / {r['recorded']} | {e2e} | {own} | {r['cpu']:.1f} | {r['rss_mb']:.1f} |")
        print()
        print("| devices | write → commit p99: pyserial ÷ Floorgate | CPU: pyserial ÷ Floorgate |")
        print("|---:|---:|---:|")
        for count in COUNTS:
            f, p = results[(location, count, "floorgate")], results[(location, count, "pyserial")]
            print(f"| {count} | {p['e2e'][1] / f['e2e'][1]:.2f} | {p['cpu'] / max(f['cpu'], 0.01):.2f} |")
        print()
    print("### Durable results per second\n")
    print("64 ports sending bursts of ten readings as fast as the ports take them for 5 s; committed rows per")
    print("second in the steady state (median of three runs), database on disk.\n")
    print("| gateway | results/s |")
    print("|---|---:|")
    for kind in ("floorgate", "pyserial"):
        print(f"| {kind} | {flood[kind]:.0f} |")
    print(f"\nRatio Floorgate ÷ pyserial: {flood['floorgate'] / max(flood['pyserial'], 1):.2f}.")


if __name__ == "__main__":
    main()
