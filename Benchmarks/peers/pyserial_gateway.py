#!/usr/bin/env python3
"""The baseline a plant engineer would otherwise write: a plain Python gateway with pyserial.

One process, one thread, an epoll loop (selectors) over every port (opened and configured by
pyserial, read with os.read); CR-terminated Mitutoyo frames (`01A+0012.345` CR) parsed per port;
every frame read in one pass of the loop inserted into SQLite (WAL, synchronous=FULL) and
committed together (batched commits).

It stores what Floorgate's outbox stores for a reading, so neither side wins by storing less:
an idempotency key (a random UUID), the source, the device's key (none for a gauge), the decoded
event as a JSON line, the typed result (kind, value, unit, resolution), the raw bytes, the
wall-clock time, when the frame's last byte was read and when its commit returned
(CLOCK_MONOTONIC ns, written with the next commit as Floorgate does), the state — under the same
unique and state indexes. Used by scripts/bench-station.py as the yardstick in the same run;
never part of Floorgate.

Usage: pyserial_gateway.py DATABASE NAME=PORT [NAME=PORT ...]   (SIGTERM to stop)
Prints `pragma journal_mode=… synchronous=…` and then `ready` on standard output.
"""
import json, os, re, selectors, signal, sqlite3, sys, time, uuid

import serial  # pyserial

FRAME = re.compile(rb"^(\d\d)A([+-])(\d+\.\d+)$")
SCHEMA = """
CREATE TABLE IF NOT EXISTS reading (
    seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, source TEXT NOT NULL, source_key TEXT,
    event TEXT NOT NULL, kind TEXT NOT NULL, value TEXT, unit TEXT, resolution TEXT, raw BLOB NOT NULL,
    measured_at INTEGER NOT NULL, read_ns INTEGER NOT NULL, committed_ns INTEGER,
    state TEXT NOT NULL DEFAULT 'pending', outcome TEXT, UNIQUE (source, source_key));
CREATE INDEX IF NOT EXISTS reading_pending ON reading (seq) WHERE state = 'pending';
"""
INSERT = """INSERT INTO reading (id, source, source_key, event, kind, value, unit, resolution, raw, measured_at, read_ns, state)
VALUES (?, ?, NULL, ?, 'measure', ?, 'mm', ?, ?, ?, ?, 'pending')"""


def resolution(text):
    """The step of the last digit: 12.340 → 0.001."""
    places = len(text) - text.index(".") - 1 if "." in text else 0
    return "1" if places == 0 else "0." + "0" * (places - 1) + "1"


def main():
    database, ports = sys.argv[1], [arg.split("=", 1) for arg in sys.argv[2:]]
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.executescript(SCHEMA)
    journal = db.execute("PRAGMA journal_mode").fetchone()[0]
    synchronous = db.execute("PRAGMA synchronous").fetchone()[0]
    selector = selectors.DefaultSelector()
    buffers = {}
    for name, path in ports:
        port = serial.Serial(path, 9600, bytesize=8, parity="N", stopbits=1, timeout=0, exclusive=True)
        selector.register(port.fileno(), selectors.EVENT_READ, (name, port))
        buffers[name] = b""
    running = True

    def stop(*_):
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    held = []  # (commit time, id) of rows whose commit time goes with the next commit
    print(f"pragma journal_mode={journal} synchronous={synchronous}", flush=True)
    print("ready", flush=True)

    def commit(rows):
        db.execute("BEGIN")
        db.executemany("UPDATE reading SET committed_ns = ? WHERE id = ?", held)
        db.executemany(INSERT, rows)
        db.execute("COMMIT")
        done = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        held[:] = [(done, row[0]) for row in rows]

    while running:
        rows = []
        for key, _ in selector.select(timeout=0.1):
            name, port = key.data
            # os.read, not port.read: pyserial's read calls select(), which fails for descriptors
            # above 1023 (each port holds three), so a few hundred ports need the raw read.
            try:
                data = os.read(port.fileno(), 64)
            except BlockingIOError:
                continue
            read_ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            measured_ms = time.time_ns() // 1_000_000
            buffers[name] += data
            *frames, buffers[name] = buffers[name].split(b"\r")
            for frame in frames:
                raw = frame.strip(b"\n")
                match = FRAME.match(raw)
                if match:
                    value = (b"-" if match.group(2) == b"-" else b"") + match.group(3)
                    text = value.decode().lstrip("0") or "0"
                    if text.startswith("."):
                        text = "0" + text
                    step = resolution(text)
                    event = json.dumps({"type": "reading", "value": text, "unit": None, "raw_hex": (raw + b"\r").hex()})
                    rows.append((str(uuid.uuid4()), name, event, text, step, raw + b"\r", measured_ms, read_ns))
        if rows:
            commit(rows)
    commit([])


if __name__ == "__main__":
    main()
