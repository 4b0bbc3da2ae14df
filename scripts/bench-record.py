#!/usr/bin/env python3
"""Load on `floorgate record serve` from a second process over its Unix socket (the record's
benchmark; scripts/run-benchmarks runs it and appends its Markdown section to BENCHMARKS.md).

Measures, against a fresh record file with synchronous=FULL:
  - build.open latency (one request at a time, round trip as the client sees it),
  - results/s one at a time (each result.record waits for its answer),
  - results/s pipelined (all requests written at once, answers read as they come).
Every answer is checked: a benchmark that records errors measures nothing.

With CALIBRATED=1 the record keeps a calibration register and every reading names the gauge it
holds, so each result also passes the register's gate (docs/genealogy.md); without it the register
is empty, as in a record that keeps no calibrations.

Three rounds, each on a fresh record, alternate with SQLite's own writes-only floor
(scripts/bench-sqlite-floor.py) in the same run, so the pipelined rate is also read as a share of
what SQLite itself does here; the table gives medians and each round.
"""
import importlib.util, os, statistics, subprocess, sys, tempfile, threading, time, uuid

from record_bench import Client, cpu_seconds, import_document

FLOORGATE = sys.argv[1]
BUILDS, PER_BUILD, SEQUENTIAL_BUILDS, ROUNDS = 500, 20, 100, int(os.environ.get("ROUNDS", "3"))
CALIBRATED = os.environ.get("CALIBRATED") == "1"
GAUGE = {"kind": "gauge", "profile": "bench", "serial": "BENCH-GAUGE"} if CALIBRATED else {"kind": "gauge", "profile": "bench"}
_floor_spec = importlib.util.spec_from_file_location("sqlite_floor", os.path.join(os.path.dirname(__file__), "bench-sqlite-floor.py"))
sqlite_floor = importlib.util.module_from_spec(_floor_spec)
_floor_spec.loader.exec_module(sqlite_floor)


def reading(build_id, n):
    return {"idempotency_key": str(uuid.uuid4()), "build_id": build_id, "kind": "measure",
            "value": f"12.0{n % 10:02d}", "unit": "mm", "device": GAUGE,
            "operator": "olga", "station": "bench", "raw_hex": "30314132"}


def one_round():
    """One fresh record: opens, results one at a time, then pipelined; the figures of the round."""
    scratch = tempfile.mkdtemp(prefix="floorgate-bench-record-")
    database, path = os.path.join(scratch, "record.sqlite"), os.path.join(scratch, "record.sock")
    server = subprocess.Popen([FLOORGATE, "record", "serve", "--db", database, "--socket", path,
                               "--password-rounds", "1000", "--log-level", "warning"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    try:
        server.stdout.readline()  # "listening on …"
        client = Client(path)
        client.call("record.import", dict(import_document([f"B-{n:04d}" for n in range(BUILDS)], PER_BUILD), idempotency_key=str(uuid.uuid4())))
        client.call("instruction.approve", {"idempotency_key": str(uuid.uuid4()), "part": "BENCH-1", "part_revision": "A",
                                            "operation": "010", "revision": "A",
                                            "signature": {"user": "ada", "password": "bench-ada-1"}})
        if CALIBRATED:
            client.call("record.import", {"idempotency_key": str(uuid.uuid4()), "users": [
                {"login": "quinn", "name": "Quinn Quality", "roles": ["quality"], "password": "bench-quinn-1"}]})
            client.call("calibration.record", {"idempotency_key": str(uuid.uuid4()), "asset": "BENCH-GAUGE", "status": "calibrated",
                                               "calibrated_on": "2026-01-01", "due_on": "2099-12-31", "certificate": "BENCH",
                                               "signature": {"user": "quinn", "password": "bench-quinn-1"}})
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
        cpu_before = cpu_seconds(server.pid)
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
        server_cpu_us = (cpu_seconds(server.pid) - cpu_before) / len(pipelined) * 1e6
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
    return {"pipelined": pipelined_rate, "sequential": sequential_rate, "server_cpu": server_cpu_us,
            "client_cpu": client_cpu_us, "open_p50": ms[len(ms) // 2], "open_p99": ms[min(len(ms) - 1, int(0.99 * len(ms)))],
            "open_max": ms[-1], "pipelined_count": len(pipelined), "sequential_count": len(sequential)}


def main():
    rounds, floors = [], []
    for _ in range(ROUNDS):
        rounds.append(one_round())
        floors.append(sqlite_floor.run(False))
    median = lambda key: statistics.median(r[key] for r in rounds)
    each = lambda key, form="{:.0f}": ", ".join(form.format(r[key]) for r in rounds)
    floor = statistics.median(floors)
    shares = [r["pipelined"] / f for r, f in zip(rounds, floors)]
    first = rounds[0]
    print(f"""
## Work-order record through its socket

`floorgate record serve` (release build) on a fresh SQLite record (WAL, synchronous=FULL) and a
client in a second process (scripts/bench-record.py, Python) on the Unix socket; every answer is
read and checked, and `floorgate verify` passes on the file afterwards. Each result is bound to
its point, judged, appended with its audit-chain entry and committed before it is answered.
{ROUNDS} rounds, each on a fresh record, alternating with SQLite's writes-only floor
(scripts/bench-sqlite-floor.py: the same file settings and batches, the writes a result needs and
nothing else) in the same run.

| measure | median | rounds |
|---|---:|---|
| results/s, pipelined ({first["pipelined_count"]} results on {BUILDS - SEQUENTIAL_BUILDS} builds, one connection) | {median("pipelined"):.0f} | {each("pipelined")} |
| SQLite's writes-only floor, results/s | {floor:.0f} | {", ".join(f"{f:.0f}" for f in floors)} |
| pipelined ÷ floor | {statistics.median(shares):.2f} | {", ".join(f"{x:.2f}" for x in shares)} |
| results/s, one at a time ({first["sequential_count"]} results, each waiting for its answer) | {median("sequential"):.0f} | {each("sequential")} |
| server CPU per result, pipelined (µs, all threads) | {median("server_cpu"):.0f} | {each("server_cpu")} |
| client CPU per result, pipelined (µs, on the same 2 cores) | {median("client_cpu"):.0f} | {each("client_cpu")} |
| build.open latency p50 / p99 / max ({BUILDS} opens, ms) | {median("open_p50"):.2f} / {median("open_p99"):.2f} / {median("open_max"):.2f} | |

One at a time, every result pays its own fsync; pipelined, the requests waiting when a
transaction starts share it (group commit). The goal is 90 % of the floor pipelined; below it, the
single writer is CPU-bound (the server CPU per result above): docs/record.md, "Durability and
throughput", says where the time goes.""")


main()
