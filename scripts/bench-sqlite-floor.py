#!/usr/bin/env python3
"""The floor under the record's throughput on this machine: SQLite itself (through Python's
sqlite3, a thin layer over the C library) doing per result what the record must do, in the same
WAL + synchronous=FULL file settings and group-commit batches. scripts/run-benchmarks appends
its Markdown section to BENCHMARKS.md, so the record's figure can be read as a ratio to it.

Two workloads, 8,000 results each, 64 per transaction, one savepoint per result:
  - writes only: the idempotency lookup, the result insert, its audit entry (SHA-256 chained),
    the idempotency insert;
  - record's statements: the same plus the reads the record does to bind a result (the build,
    its completed steps, the active step's results, its NCs, a pending redline, the audit head,
    the row's snapshot).
"""
import hashlib, json, os, sqlite3, tempfile, time, uuid

RESULTS, BATCH = 8000, 64
SCHEMA = """
CREATE TABLE build (id INTEGER PRIMARY KEY, serial TEXT, status TEXT, instruction_id INTEGER);
CREATE TABLE result (id INTEGER PRIMARY KEY, key TEXT UNIQUE, build_id INTEGER, instruction_id INTEGER,
    step TEXT, point TEXT, value TEXT, unit TEXT, verdict TEXT, device_kind TEXT, operator TEXT,
    station TEXT, measured_at TEXT, recorded_at TEXT, raw BLOB);
CREATE INDEX result_by_step ON result (build_id, step);
CREATE TABLE audit (seq INTEGER PRIMARY KEY, at TEXT, actor TEXT, entity TEXT, entity_id INTEGER,
    new TEXT, prev_hash TEXT, hash TEXT);
CREATE TABLE idempotency (key TEXT PRIMARY KEY, method TEXT, response TEXT);
"""


def run(with_reads):
    directory = tempfile.mkdtemp(prefix="floorgate-sqlite-floor-")
    db = sqlite3.connect(os.path.join(directory, "floor.sqlite"), isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = FULL")
    db.executescript(SCHEMA)
    for n in range(RESULTS // 20 + 1):
        db.execute("INSERT INTO build (serial, status, instruction_id) VALUES (?, 'open', 1)", (f"B-{n}",))
    previous, done = "0" * 64, 0
    start = time.perf_counter()
    while done < RESULTS:
        db.execute("BEGIN IMMEDIATE")
        for _ in range(min(BATCH, RESULTS - done)):
            build, key = done // 20 + 1, str(uuid.uuid4())
            db.execute("SAVEPOINT result")
            db.execute("SELECT response FROM idempotency WHERE key = ?", (key,)).fetchone()
            if with_reads:
                for _ in range(4):  # build, completions, NCs, pending redline: one small read each
                    db.execute("SELECT * FROM build WHERE id = ?", (build,)).fetchall()
                db.execute("SELECT id, instruction_id, step, point, verdict FROM result WHERE build_id = ? AND step = '10'",
                           (build,)).fetchall()
            row_id = db.execute(
                "INSERT INTO result (key, build_id, instruction_id, step, point, value, unit, verdict, device_kind,"
                " operator, station, measured_at, recorded_at, raw) VALUES (?, ?, 1, '10', 'diameter', '12.001', 'mm',"
                " 'pass', 'gauge', 'olga', 'bench', '2026-11-25T08:00:00.000Z', '2026-11-25T08:00:00.001Z', x'30314132')",
                (key, build)).lastrowid
            if with_reads:
                row = db.execute("SELECT * FROM result WHERE id = ?", (row_id,)).fetchone()
                db.execute("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
            else:
                row = (row_id, key, build)
            snapshot = json.dumps([x.hex() if isinstance(x, bytes) else x for x in row])
            digest = hashlib.sha256((previous + snapshot).encode()).hexdigest()
            db.execute("INSERT INTO audit (at, actor, entity, entity_id, new, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                       ("2026-11-25T08:00:00.001Z", "olga", "result", row_id, snapshot, previous, digest))
            previous = digest
            db.execute("INSERT INTO idempotency VALUES (?, 'result.record', '{\"verdict\":\"pass\"}')", (key,))
            db.execute("RELEASE result")
            done += 1
        db.execute("COMMIT")
    elapsed = time.perf_counter() - start
    db.close()
    remove_directory(directory)
    return RESULTS / elapsed


def remove_directory(directory):
    for name in os.listdir(directory):
        os.remove(os.path.join(directory, name))
    os.rmdir(directory)


if __name__ == "__main__":
    writes_only, with_reads = run(False), run(True)
    print(f"""
## SQLite's floor on this machine (results/s)

What SQLite itself sustains here (scripts/bench-sqlite-floor.py: Python's sqlite3 over the C
library, WAL, synchronous=FULL, {BATCH} results per transaction, a savepoint each), to read the
record's figure above against:

| workload | results/s |
|---|---:|
| writes only: idempotency lookup, result insert, chained audit entry, idempotency insert | {writes_only:.0f} |
| the record's statements: the same plus the reads it does per result (build state, audit head, row snapshot) | {with_reads:.0f} |""")
