#!/usr/bin/env python3
"""The baseline a plant engineer would otherwise write: a plain Python gateway with pyserial.

One process, one thread, an epoll loop (selectors) over every port (opened and configured by
pyserial, read with os.read); CR-terminated Mitutoyo
frames (`01A+0012.345` CR) parsed per port; every frame read in one pass of the loop inserted
into SQLite (WAL, synchronous=FULL) and committed together (batched commits). Each row keeps
when its frame's last byte was read and, written at exit, when its commit returned
(CLOCK_MONOTONIC ns), the same measures Floorgate's outbox keeps. Used by scripts/bench-station.py
as the yardstick in the same run; never part of Floorgate.

Usage: pyserial_gateway.py DATABASE NAME=PORT [NAME=PORT ...]   (SIGTERM to stop)
"""
import os, re, selectors, signal, sqlite3, sys, time

import serial  # pyserial

FRAME = re.compile(rb"^(\d\d)A([+-])(\d+\.\d+)$")


def main():
    database, ports = sys.argv[1], [arg.split("=", 1) for arg in sys.argv[2:]]
    db = sqlite3.connect(database, isolation_level=None)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=FULL")
    db.execute("CREATE TABLE IF NOT EXISTS reading (id INTEGER PRIMARY KEY, source TEXT, value TEXT, read_ns INTEGER, committed_ns INTEGER)")
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
    committed = []  # (row id, commit time), written at exit
    print("ready", flush=True)
    while running:
        rows = []
        for key, _ in selector.select(timeout=0.1):
            name, port = key.data
            # os.read, not port.read: pyserial's read calls select(), which fails for descriptors
            # above 1023 (each port holds three), so a few hundred ports need the raw read.
            try:
                data = os.read(port.fileno(), 4096)
            except BlockingIOError:
                continue
            read_ns = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            buffers[name] += data
            *frames, buffers[name] = buffers[name].split(b"\r")
            for frame in frames:
                match = FRAME.match(frame.strip(b"\n"))
                if match:
                    value = (b"-" if match.group(2) == b"-" else b"") + match.group(3)
                    rows.append((name, value.decode(), read_ns))
        if rows:
            db.execute("BEGIN")
            first = db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM reading").fetchone()[0]
            db.executemany("INSERT INTO reading (source, value, read_ns) VALUES (?, ?, ?)", rows)
            db.execute("COMMIT")
            done = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
            committed.extend((row_id, done) for row_id in range(first, first + len(rows)))
    db.execute("BEGIN")
    db.executemany("UPDATE reading SET committed_ns = ? WHERE id = ?", [(done, row_id) for row_id, done in committed])
    db.execute("COMMIT")


if __name__ == "__main__":
    main()
