#!/usr/bin/env python3
"""Station load: latency from a frame's last byte on the pty to its durable commit, CPU, memory
and durable results per second — `floorgate gateway` beside a plain pyserial gateway
(Benchmarks/peers/pyserial_gateway.py) under the same load, alternately, in the same run.

Usage: bench-station.py FLOORGATE_BINARY   (writes a markdown section to stdout)
       BENCH_RUNS=N to change the number of alternating runs per size (default 5)

Load: N simulated Mitutoyo calipers (pseudo-terminals, 9600 8N1 profile), each sending a
reading every 100 ms, staggered, for DURATION seconds; the frame encodes its device and
sequence number, and the time its last byte was written is taken (CLOCK_MONOTONIC) right after
the write. Each gateway keeps, per row, when it read the frame's last byte and when the commit
returned (CLOCK_MONOTONIC ns), so the latencies are measured from outside:
- write → commit: everything the device's reading waits for, fsync included;
- read → commit: the gateway's own share (decode, queue, insert, commit).
Both databases are on disk. Floorgate and the peer take turns (the first to run alternates), and
each figure is the median of the runs. CPU is the gateway's user+system time over the load window
(100 % = one core); RSS is the highest VmRSS seen; anonymous the highest anonymous memory (heap
and stacks: what the process allocated, as against its binary's and libraries' pages). Durable results/s: 64 devices sending as fast
as the ports take, the rows committed per second. Idle floor: each gateway's RSS with no device
(one silent device: a station needs one; Floorgate with its page off), and where Floorgate's
goes (/proc/PID/smaps).

pyserial is installed into a throwaway virtual environment: a yardstick, never a dependency.
"""
import json, os, pathlib, re, signal, sqlite3, statistics, subprocess, sys, tempfile, threading, time, tty, venv

PYSERIAL_VERSION = "3.5"
DURATION = 8.0
COUNTS = [16, 64, 256]
RUNS = int(os.environ.get("BENCH_RUNS", "5"))
KINDS = ("floorgate", "pyserial")
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
        self.output = open(self.directory / "output.log", "w")
        self.process = subprocess.Popen(command, stdout=self.output, stderr=subprocess.STDOUT)
        self.peak_rss_kb = 0
        self.peak_anonymous_kb = 0
        self._sampling = True
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self):
        while self._sampling and self.process.poll() is None:
            self.peak_rss_kb = max(self.peak_rss_kb, self.rss_kb())
            self.peak_anonymous_kb = max(self.peak_anonymous_kb, self.anonymous_kb())
            time.sleep(0.05)

    def anonymous_kb(self):
        """Anonymous memory (heap, stacks; swapped out included): what the process allocated, as
        against pages of its binary and libraries, which the kernel can drop and read again."""
        try:
            total = 0
            for line in open(f"/proc/{self.process.pid}/smaps_rollup"):
                fields = line.split()
                if fields[0] in ("Anonymous:", "Swap:"):
                    total += int(fields[1])
            return total
        except (OSError, IndexError, ValueError):
            return 0

    def rss_kb(self):
        try:
            for line in open(f"/proc/{self.process.pid}/status"):
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            pass
        return 0

    def rss_by_mapping(self):
        """Resident kB per mapped file (anonymous memory as one entry), largest first."""
        totals, name = {}, "[anonymous]"
        for line in open(f"/proc/{self.process.pid}/smaps"):
            fields = line.split()
            if re.match(r"^[0-9a-f]+-[0-9a-f]+ ", line):
                name = os.path.basename(fields[5]) if len(fields) > 5 else "[anonymous]"
            elif fields[0] == "Rss:":
                totals[name] = totals.get(name, 0) + int(fields[1])
        return sorted(totals.items(), key=lambda item: -item[1])

    def cpu_seconds(self):
        fields = open(f"/proc/{self.process.pid}/stat").read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def pragmas(self):
        """The journal mode and synchronous level each gateway reports for its connection."""
        text = (self.directory / "output.log").read_text()
        found = re.search(r"journal_mode=(\w+).*?synchronous=(\w+)", text)
        return f"journal_mode={found.group(1)} synchronous={found.group(2)}" if found else "not reported"

    def rows(self):
        db = sqlite3.connect(self.database)
        if self.kind == "floorgate":
            columns = {row[1] for row in db.execute("PRAGMA table_info(outbox)")}
            value = "value" if "value" in columns else "json_extract(result, '$.value')"
            query = f"SELECT source, {value}, readNs, committedNs FROM outbox"
        else:
            query = "SELECT source, value, read_ns, committed_ns FROM reading"
        return [(s, round(float(v) * 1000), r, c) for s, v, r, c in db.execute(query) if v is not None]

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


def run_paced(kind, binary, python, count):
    ports = make_ports(count)
    with tempfile.TemporaryDirectory(dir=REPOSITORY / ".build") as directory:
        gateway = Gateway(kind, binary, python, directory, ports)
        if not warm_up(gateway, ports):
            gateway.stop()
            raise RuntimeError(f"{kind} with {count} devices did not start: {(pathlib.Path(directory) / 'output.log').read_text()[-2000:]}")
        cpu_before, wall_before = gateway.cpu_seconds(), time.time()
        written = paced_load(ports, DURATION, 1)
        cpu = (gateway.cpu_seconds() - cpu_before) / (time.time() - wall_before) * 100
        time.sleep(1.0)
        gateway.stop()
        rows = gateway.rows()
        pragmas = gateway.pragmas()
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
        "anonymous_mb": gateway.peak_anonymous_kb / 1024,
        "e2e": [percentile(end_to_end, p) for p in (0.5, 0.99)],
        "own": [percentile(gateway_share, p) for p in (0.5, 0.99)],
        "pragmas": pragmas,
    }


def run_flood(kind, binary, python, count=64, duration=5.0):
    """Every port sends as fast as it takes frames; committed rows per second."""
    ports = make_ports(count)
    with tempfile.TemporaryDirectory(dir=REPOSITORY / ".build") as directory:
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


def idle_floor(kind, binary, python):
    """RSS of a gateway with one silent device (a station needs one) after 3 s, and (Floorgate)
    where it goes."""
    ports = make_ports(1)
    with tempfile.TemporaryDirectory(dir=REPOSITORY / ".build") as directory:
        gateway = Gateway(kind, binary, python, directory, ports)
        time.sleep(3.0)
        rss, anonymous = gateway.rss_kb() / 1024, gateway.anonymous_kb() / 1024
        mappings = gateway.rss_by_mapping() if kind == "floorgate" else []
        gateway.stop()
    os.close(ports[0][0])
    return rss, anonymous, mappings


def median(runs, pick):
    return statistics.median(pick(run) for run in runs)


def main():
    binary = sys.argv[1]
    with tempfile.TemporaryDirectory() as env_dir:
        venv.create(env_dir, with_pip=True)
        python = str(pathlib.Path(env_dir) / "bin" / "python")
        subprocess.run([python, "-m", "pip", "install", "--quiet", f"pyserial=={PYSERIAL_VERSION}"], check=True)
        floors = {kind: idle_floor(kind, binary, python) for kind in KINDS}
        runs = {(count, kind): [] for count in COUNTS for kind in KINDS}
        for count in COUNTS:
            for run in range(RUNS):
                order = KINDS if run % 2 == 0 else tuple(reversed(KINDS))
                for kind in order:
                    runs[(count, kind)].append(run_paced(kind, binary, python, count))
        floods = {kind: [] for kind in KINDS}
        for run in range(3):
            for kind in (KINDS if run % 2 == 0 else tuple(reversed(KINDS))):
                floods[kind].append(run_flood(kind, binary, python))

    print("\n## Station load: device frame → durable commit\n")
    print("`python3 scripts/bench-station.py FLOORGATE` (run by `make bench`): N simulated Mitutoyo calipers on")
    print(f"pseudo-terminals, each sending a reading every 100 ms for {DURATION:.0f} s, into `floorgate gateway` (release")
    print("build, page off, no record: results wait in the outbox) and, alternately in the same run, into a plain")
    print(f"Python gateway (pyserial {PYSERIAL_VERSION}, epoll, one commit per loop pass, 64-byte reads as Floorgate's,")
    print("storing the same columns under the same indexes: Benchmarks/peers/pyserial_gateway.py). Both databases")
    print(f"on disk. Each figure is the median of {RUNS} runs per gateway, the first to run alternating. Times in ms,")
    print("CLOCK_MONOTONIC: *write → commit* from the frame's last byte written on the pty to the commit's return;")
    print("*read → commit* the gateway's own share.\n")
    pragmas = {kind: sorted({run["pragmas"] for count in COUNTS for run in runs[(count, kind)]}) for kind in KINDS}
    for kind in KINDS:
        print(f"- {kind} outbox connection: {', '.join(pragmas[kind])}")
    print()
    print("| devices | gateway | readings sent / committed (all runs) | write → commit p50 / p99 | read → commit p50 / p99 | CPU % of a core | peak RSS MB | peak anonymous MB |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|")
    for count in COUNTS:
        for kind in KINDS:
            r = runs[(count, kind)]
            sent, recorded = sum(x["sent"] for x in r), sum(x["recorded"] for x in r)
            e2e = " / ".join(f"{median(r, lambda x: x['e2e'][i]):.2f}" for i in range(2))
            own = " / ".join(f"{median(r, lambda x: x['own'][i]):.2f}" for i in range(2))
            print(f"| {count} | {kind} | {sent} / {recorded} | {e2e} | {own} | {median(r, lambda x: x['cpu']):.1f} | {median(r, lambda x: x['rss_mb']):.1f} | {median(r, lambda x: x['anonymous_mb']):.1f} |")
    print()
    print("Ratios, Floorgate ÷ pyserial (below 1: Floorgate leads):\n")
    print("| devices | CPU | peak RSS | peak anonymous | write → commit p99 | read → commit p99 |")
    print("|---:|---:|---:|---:|---:|---:|")
    for count in COUNTS:
        f, p = runs[(count, "floorgate")], runs[(count, "pyserial")]
        ratio = lambda pick: median(f, pick) / max(median(p, pick), 1e-9)
        print(f"| {count} | {ratio(lambda x: x['cpu']):.2f} | {ratio(lambda x: x['rss_mb']):.2f} | {ratio(lambda x: x['anonymous_mb']):.2f} | "
              f"{ratio(lambda x: x['e2e'][1]):.2f} | {ratio(lambda x: x['own'][1]):.2f} |")
    print()
    print("### Idle floor: one silent device, page off\n")
    print("| gateway | RSS MB after 3 s | anonymous MB |")
    print("|---|---:|---:|")
    for kind in KINDS:
        print(f"| {kind} | {floors[kind][0]:.1f} | {floors[kind][1]:.1f} |")
    print("\nWhere Floorgate's idle RSS goes (/proc/PID/smaps, resident MB per mapping):\n")
    print("| mapping | MB |")
    print("|---|---:|")
    for name, kb in floors["floorgate"][2][:10]:
        print(f"| {name} | {kb / 1024:.1f} |")
    print()
    print("### Durable results per second\n")
    print("64 ports sending bursts of ten readings as fast as the ports take them for 5 s; committed rows per")
    print("second in the steady state (median of three runs each, alternating), database on disk.\n")
    print("| gateway | results/s |")
    print("|---|---:|")
    for kind in KINDS:
        print(f"| {kind} | {statistics.median(floods[kind]):.0f} |")
    print(f"\nRatio Floorgate ÷ pyserial: {statistics.median(floods['floorgate']) / max(statistics.median(floods['pyserial']), 1):.2f}.")


if __name__ == "__main__":
    main()
