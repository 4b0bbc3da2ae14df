#!/usr/bin/env python3
"""The plant-wide record's benchmark (scripts/run-benchmarks appends its Markdown to BENCHMARKS.md).

Sixteen clients, one connection each, record results one at a time (each waits for its answer,
as a station's gateway does for a result it has just read) through 1, 4 and 16
`floorgate record serve` processes into one throwaway PostgreSQL cluster; beside them the same
load on one server of a SQLite record, and `pgbench -N` with the same sixteen clients on the same
cluster: this machine's floor for a small durable write transaction. fsync and
synchronous_commit stay on everywhere. Every answer is checked, and `floorgate verify` passes on
each record afterwards.

    python3 scripts/bench-plant.py .build/release/floorgate [seconds per run]
"""
import os, pwd, re, subprocess, sys, tempfile, threading, time, uuid

from record_bench import Client, cpu_seconds, import_document

FLOORGATE = sys.argv[1]
SECONDS = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
CLIENTS, PER_BUILD, BUILDS_PER_CLIENT = 16, 20, 80
SERVER_COUNTS = [1, 4, 16]
BINARIES = next(f"/usr/lib/postgresql/{v}/bin" for v in sorted(os.listdir("/usr/lib/postgresql"), key=int, reverse=True))
SERVER_ROLE, OWNER = "floorgate_server", "floorgate_owner"


def as_postgres(command):
    """PostgreSQL refuses to run as root: its programs run as `postgres` then."""
    return ["runuser", "-u", "postgres", "--"] + command if os.getuid() == 0 else command


class Cluster:
    """A throwaway cluster in a temporary directory: Unix socket only, fsync on."""

    def __init__(self):
        self.directory = tempfile.mkdtemp(prefix="floorgate-bench-pg-")
        os.chmod(self.directory, 0o755)
        if os.getuid() == 0:
            user = pwd.getpwnam("postgres")
            os.chown(self.directory, user.pw_uid, user.pw_gid)
        self.data = os.path.join(self.directory, "data")
        subprocess.run(as_postgres([f"{BINARIES}/initdb", "-D", self.data, "-U", OWNER, "--auth-local=trust", "-E", "UTF8"]),
                       check=True, capture_output=True)
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(f"\nlisten_addresses = ''\nunix_socket_directories = '{self.directory}'\nport = 5432\n"
                       "fsync = on\nsynchronous_commit = on\nmax_connections = 200\n")
        subprocess.run(as_postgres([f"{BINARIES}/pg_ctl", "-D", self.data, "-l", os.path.join(self.directory, "log"), "-w", "start"]),
                       check=True, capture_output=True)
        self.psql("postgres", f"CREATE ROLE {SERVER_ROLE} LOGIN")

    def psql(self, database, sql):
        return subprocess.run(["psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", self.directory, "-U", OWNER, "-d", database,
                               "-c", sql], check=True, capture_output=True, text=True).stdout.strip()

    def url(self, database, role=OWNER):
        return f"postgresql:///{database}?host={self.directory}&user={role}"

    def cpu_seconds(self):
        """CPU time of the postmaster and its backends so far."""
        postmaster = int(open(os.path.join(self.data, "postmaster.pid")).readline())
        children = subprocess.run(["ps", "-o", "pid=", "--ppid", str(postmaster)], capture_output=True, text=True).stdout.split()
        return sum(cpu_seconds(int(pid)) for pid in [postmaster] + children)

    def stop(self):
        subprocess.run(as_postgres([f"{BINARIES}/pg_ctl", "-D", self.data, "-m", "fast", "-w", "stop"]), capture_output=True)
        subprocess.run(["rm", "-rf", self.directory])


def serials():
    return [f"P-{n:05d}" for n in range(CLIENTS * BUILDS_PER_CLIENT)]


def key():
    return str(uuid.uuid4())


def start_servers(database, count, scratch):
    servers, sockets = [], []
    for n in range(count):
        path = os.path.join(scratch, f"station-{n}.sock")
        key = []
        if database.startswith("postgresql:"):
            # Each server of a plant record signs its audit entries with a key of its own.
            key = ["--key", path + ".key"]
            if not os.path.exists(path + ".key"):
                subprocess.run([FLOORGATE, "record", "init", "--key", path + ".key"], check=True, capture_output=True)
        server = subprocess.Popen([FLOORGATE, "record", "serve", "--db", database, "--socket", path, "--password-rounds", "1000",
                                   "--log-level", "error"] + key, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        if not server.stdout.readline().startswith(b"listening on"):
            raise SystemExit(f"bench-plant: record serve did not start on {database}")
        servers.append(server)
        sockets.append(path)
    return servers, sockets


def run_load(database, server_count, scratch, cluster=None):
    """Sixteen clients spread over `server_count` servers; returns results/s, latencies (ms) and CPU (µs) per result."""
    servers, sockets = start_servers(database, server_count, scratch)
    try:
        setup = Client(sockets[0])
        setup.call("record.import", dict(import_document(serials(), PER_BUILD), idempotency_key=key()))
        setup.call("instruction.approve", {"idempotency_key": key(), "part": "BENCH-1", "part_revision": "A", "operation": "010",
                                           "revision": "A", "signature": {"user": "ada", "password": "bench-ada-1"}})
        clients = [Client(sockets[n % server_count]) for n in range(CLIENTS)]
        builds = [[clients[c].call("build.open", {"idempotency_key": key(), "serial": f"P-{c * BUILDS_PER_CLIENT + b:05d}",
                                                  "station": f"station-{c % server_count}", "operator": "olga"})["build_id"]
                   for b in range(BUILDS_PER_CLIENT)] for c in range(CLIENTS)]
        latencies = [[] for _ in range(CLIENTS)]
        go = threading.Barrier(CLIENTS + 1)
        deadline = [0.0]

        def work(c):
            go.wait()
            for build_id in builds[c]:
                for n in range(PER_BUILD):
                    if time.perf_counter() >= deadline[0]:
                        return
                    start = time.perf_counter()
                    answer = clients[c].call("result.record", {
                        "idempotency_key": key(), "build_id": build_id, "kind": "measure", "value": f"12.0{n % 10:02d}", "unit": "mm",
                        "device": {"kind": "gauge", "profile": "bench"}, "operator": "olga", "station": "bench", "raw_hex": "30314132"})
                    latencies[c].append((time.perf_counter() - start) * 1000)
                    if answer["verdict"] != "pass":
                        raise SystemExit("bench-plant: a reading did not pass")

        threads = [threading.Thread(target=work, args=(c,)) for c in range(CLIENTS)]
        for thread in threads:
            thread.start()
        server_cpu = sum(cpu_seconds(s.pid) for s in servers)
        database_cpu = cluster.cpu_seconds() if cluster else 0.0
        start = time.perf_counter()
        deadline[0] = start + SECONDS
        go.wait()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - start
        count = sum(len(l) for l in latencies)
        server_cpu_us = (sum(cpu_seconds(s.pid) for s in servers) - server_cpu) / count * 1e6
        database_cpu_us = ((cluster.cpu_seconds() - database_cpu) / count * 1e6) if cluster else None
    finally:
        for server in servers:
            server.terminate()
        for server in servers:
            server.wait()
    return count / elapsed, sorted(x for l in latencies for x in l), server_cpu_us, database_cpu_us


def pgbench(cluster):
    """pgbench -N (the simple-update script without the branch and teller updates) with the same clients."""
    cluster.psql("postgres", "CREATE DATABASE pgbench")
    subprocess.run(["pgbench", "-i", "-q", "-s", "10", "-h", cluster.directory, "-U", OWNER, "pgbench"], check=True, capture_output=True)
    logs = tempfile.mkdtemp(prefix="floorgate-bench-pgbench-")
    out = subprocess.run(["pgbench", "-N", "-c", str(CLIENTS), "-j", "2", "-T", str(int(SECONDS)), "-l", "--log-prefix",
                          os.path.join(logs, "log"), "-h", cluster.directory, "-U", OWNER, "pgbench"],
                         check=True, capture_output=True, text=True, cwd=logs).stdout
    tps = float(re.search(r"tps = ([\d.]+) \(without initial connection time\)", out).group(1))
    latencies = []
    for name in os.listdir(logs):
        for line in open(os.path.join(logs, name)):
            latencies.append(int(line.split()[2]) / 1000)  # µs → ms
    subprocess.run(["rm", "-rf", logs])
    return tps, sorted(latencies)


def percentile(sorted_values, p):
    return sorted_values[min(len(sorted_values) - 1, int(p / 100 * len(sorted_values)))]


def verify(database):
    verified = subprocess.run([FLOORGATE, "verify", "--db", database], capture_output=True, text=True)
    if verified.returncode != 0:
        raise SystemExit(f"bench-plant: {database} does not verify after the run: {verified.stderr}")


def main():
    scratch = tempfile.mkdtemp(prefix="floorgate-bench-plant-")
    cluster = Cluster()
    rows = []
    try:
        floor_tps, floor_latencies = pgbench(cluster)
        for count in SERVER_COUNTS:
            name = f"plant_{count}"
            cluster.psql("postgres", f"CREATE DATABASE {name}")
            subprocess.run([FLOORGATE, "record", "migrate", "--db", cluster.url(name), "--grant", SERVER_ROLE], check=True, capture_output=True)
            rate, latencies, server_us, database_us = run_load(cluster.url(name, SERVER_ROLE), count, scratch, cluster)
            verify(cluster.url(name))
            rows.append((f"PostgreSQL, {count} record server{'s' if count > 1 else ''}", rate, latencies, server_us, database_us))
        sqlite = os.path.join(scratch, "record.sqlite")
        rate, latencies, server_us, _ = run_load(sqlite, 1, scratch)
        verify(sqlite)
        rows.append(("SQLite, 1 record server", rate, latencies, server_us, None))
    finally:
        cluster.stop()
        subprocess.run(["rm", "-rf", scratch])

    print(f"""
## The plant-wide record: results/s through 1, 4 and 16 record servers into one PostgreSQL

`python3 scripts/bench-plant.py BINARY {SECONDS:.0f}` (release build; `make bench` runs it): {CLIENTS} clients, one
connection each, record results one at a time (each waits for its answer, as a gateway does)
for {SECONDS:.0f} s, spread evenly over the record servers; a throwaway PostgreSQL {os.path.basename(os.path.dirname(BINARIES))} cluster on
this machine (Unix socket, fsync and synchronous_commit on); every answer checked, `floorgate verify`
passes on each record afterwards. The floor is `pgbench -N` with the same {CLIENTS} clients on the
same cluster in the same run. Everything (PostgreSQL, the servers, the Python clients) shares
this machine's {os.cpu_count()} cores.

| store | results/s | ÷ pgbench -N tps | p50 / p99 result.record (ms) | record servers' CPU per result (µs) | PostgreSQL's CPU per result (µs) |
|---|---:|---:|---:|---:|---:|
| pgbench -N, {CLIENTS} clients (the floor) | {floor_tps:.0f} | 1.00 | {percentile(floor_latencies, 50):.2f} / {percentile(floor_latencies, 99):.2f} | | |""")
    for name, rate, latencies, server_us, database_us in rows:
        database = f"{database_us:.0f}" if database_us is not None else ""
        print(f"| {name} | {rate:.0f} | {rate / floor_tps:.2f} | {percentile(latencies, 50):.2f} / {percentile(latencies, 99):.2f} "
              f"| {server_us:.0f} | {database} |")
    print("""
A result is one transaction on the record's side (the group-commit writer may take several at
once) of some fifteen statements (the idempotency check, the build and its step, the binding,
the result, its audit entry under the chain's lock, the idempotency row), where pgbench -N's is
five; every plant writer is serialized by the advisory lock that orders the audit chain.""")


main()
