#!/usr/bin/env python3
"""Load on `floorgate record serve` from a second process over its Unix socket (the record's
benchmark; scripts/run-benchmarks runs it and appends its Markdown section to BENCHMARKS.md).

Measures, against a fresh record file with synchronous=FULL:
  - build.open latency (one request at a time, round trip as the client sees it),
  - results/s one at a time (each result.record waits for its answer),
  - results/s pipelined (all requests written at once, answers read as they come).
Every answer is checked: a benchmark that records errors measures nothing.
"""
import json, os, socket, statistics, subprocess, sys, tempfile, threading, time, uuid

FLOORGATE = sys.argv[1]
BUILDS, PER_BUILD, SEQUENTIAL_BUILDS = 500, 20, 100


def import_document():
    return {
        "users": [
            {"login": "olga", "name": "Olga Operator", "roles": ["operator"], "password": "bench-olga-1"},
            {"login": "ada", "name": "Ada Approver", "roles": ["approver"], "password": "bench-ada-1"},
        ],
        "parts": [{"number": "BENCH-1", "revision": "A"}],
        "instructions": [{
            "part": "BENCH-1", "part_revision": "A", "operation": "010", "revision": "A", "title": "Benchmark",
            "steps": [{"key": "10", "title": "Measure", "points": [
                {"name": "diameter", "kind": "measure", "unit": "mm", "lower": "11.980", "upper": "12.020", "count": PER_BUILD}]}],
        }],
        "work_orders": [{"number": "WO-BENCH", "part": "BENCH-1", "part_revision": "A", "quantity": BUILDS,
                         "operations": ["010"], "serials": [f"B-{n:04d}" for n in range(BUILDS)]}],
    }


class Client:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.reader = self.sock.makefile("rb")
        self.next_id = 1

    def line(self, method, params):
        request = {"jsonrpc": "2.0", "id": self.next_id, "method": method, "params": params}
        self.next_id += 1
        return (json.dumps(request) + "\n").encode()

    def answer(self):
        while True:
            message = json.loads(self.reader.readline())
            if "id" in message:
                if "error" in message:
                    raise SystemExit(f"bench-record: the record refused a request: {message['error']}")
                return message["result"]

    def call(self, method, params):
        self.sock.sendall(self.line(method, params))
        return self.answer()


def server_cpu_seconds(pid):
    """User + system CPU time the server process has used (all its threads)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reading(build_id, n):
    return {"idempotency_key": str(uuid.uuid4()), "build_id": build_id, "kind": "measure",
            "value": f"12.0{n % 10:02d}", "unit": "mm", "device": {"kind": "gauge", "profile": "bench"},
            "operator": "olga", "station": "bench", "raw_hex": "30314132"}


def main():
    scratch = tempfile.mkdtemp(prefix="floorgate-bench-record-")
    database, path = os.path.join(scratch, "record.sqlite"), os.path.join(scratch, "record.sock")
    server = subprocess.Popen([FLOORGATE, "record", "serve", "--db", database, "--socket", path,
                               "--password-rounds", "1000", "--log-level", "warning"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        server.stdout.readline()  # "listening on …"
        client = Client(path)
        client.call("record.import", dict(import_document(), idempotency_key=str(uuid.uuid4())))
        client.call("instruction.approve", {"idempotency_key": str(uuid.uuid4()), "part": "BENCH-1", "part_revision": "A",
                                            "operation": "010", "revision": "A",
                                            "signature": {"user": "ada", "password": "bench-ada-1"}})
        open_latencies, builds = [], []
        for n in range(BUILDS):
            start = time.perf_counter()
            build = client.call("build.open", {"idempotency_key": str(uuid.uuid4()), "serial": f"B-{n:04d}",
                                               "station": "bench", "operator": "olga"})
            open_latencies.append(time.perf_counter() - start)
            builds.append(build["build_id"])

        sequential = [(b, n) for b in builds[:SEQUENTIAL_BUILDS] for n in range(PER_BUILD)]
        start = time.perf_counter()
        for build_id, n in sequential:
            if client.call("result.record", reading(build_id, n))["verdict"] != "pass":
                raise SystemExit("bench-record: a reading did not pass")
        sequential_rate = len(sequential) / (time.perf_counter() - start)

        pipelined = [(b, n) for b in builds[SEQUENTIAL_BUILDS:] for n in range(PER_BUILD)]
        payload = b"".join(client.line("result.record", reading(b, n)) for b, n in pipelined)
        cpu_before = server_cpu_seconds(server.pid)
        client_before = time.process_time()
        start = time.perf_counter()
        writer = threading.Thread(target=client.sock.sendall, args=(payload,))
        writer.start()
        for _ in pipelined:
            # Checked without a JSON parse, so the client costs the shared cores as little as it can.
            answer = client.reader.readline()
            if b'"verdict":"pass"' not in answer:
                raise SystemExit(f"bench-record: unexpected answer {answer[:200]!r}")
        pipelined_rate = len(pipelined) / (time.perf_counter() - start)
        server_cpu_us = (server_cpu_seconds(server.pid) - cpu_before) / len(pipelined) * 1e6
        client_cpu_us = (time.process_time() - client_before) / len(pipelined) * 1e6
        writer.join()
    finally:
        server.terminate()
        server.wait()
    verified = subprocess.run([FLOORGATE, "verify", "--db", database], capture_output=True, text=True)
    if verified.returncode != 0:
        raise SystemExit(f"bench-record: the record does not verify after the run: {verified.stderr}")
    subprocess.run(["rm", "-rf", scratch])

    ms = sorted(x * 1000 for x in open_latencies)
    pct = lambda p: ms[min(len(ms) - 1, int(p / 100 * len(ms)))]
    print(f"""
## Work-order record through its socket

`floorgate record serve` (release build) on a fresh SQLite record (WAL, synchronous=FULL) and a
client in a second process (scripts/bench-record.py, Python) on the Unix socket; every answer is
read and checked, and `floorgate verify` passes on the file afterwards. Each result is bound to
its point, judged, appended with its audit-chain entry and committed before it is answered.

| measure | figure |
|---|---:|
| results/s, pipelined ({len(pipelined)} results on {BUILDS - SEQUENTIAL_BUILDS} builds, one connection) | {pipelined_rate:.0f} |
| results/s, one at a time ({len(sequential)} results, each waiting for its answer) | {sequential_rate:.0f} |
| pipelined ÷ one at a time | {pipelined_rate / sequential_rate:.1f} |
| server CPU per result, pipelined (µs, all threads) | {server_cpu_us:.0f} |
| client CPU per result, pipelined (µs, on the same 2 cores) | {client_cpu_us:.0f} |
| build.open latency p50 / p99 / max ({BUILDS} opens, ms) | {pct(50):.2f} / {pct(99):.2f} / {ms[-1]:.2f} |

One at a time, every result pays its own fsync; pipelined, the requests waiting when a
transaction starts share it (group commit), so the ratio is the group commit's gain. The target
is 10,000 results/s pipelined; below it, the single writer is CPU-bound (the server CPU per
result above): docs/record.md, "Durability and throughput", says where the time goes.""")


main()
