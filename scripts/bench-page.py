#!/usr/bin/env python3
"""Station page: device frame → page latency, measured in the browser, with 16 devices streaming;
and the page's weight.

Usage: bench-page.py FLOORGATE_BINARY   (run with a Python that has selenium: scripts/test-browser
makes .build/browser-venv; writes a markdown section to stdout)

A record (`floorgate record serve`, the example record with revision A approved) and
`floorgate gateway` with 16 simulated Mitutoyo calipers and a serial scanner on pseudo-terminals;
the scanner opens SN-0001's build, then each caliper sends a reading every 100 ms (staggered) for
DURATION seconds, each with a value of its own. Headless Chromium has the station page open;
the page's script notes (Date.now(), the machine's wall clock) when each reading's item is put on
the page, and the time each frame's last byte was written is taken here from the same clock. The
step takes the first two readings; the record refuses the others (no open point, error 1006),
which the page shows as NOT BOUND: every reading makes the whole trip, the record's round trip
included. Page weight: the bytes of the station page (HTML with its inline stylesheet and script)
and of one live update.
"""
import json, os, pathlib, statistics, subprocess, sys, tempfile, time, tty, urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service

DEVICES = 16
DURATION = 20.0
PERIOD = 0.1
REPOSITORY = pathlib.Path(__file__).resolve().parent.parent


def pty():
    master, slave = os.openpty()
    tty.setraw(master)
    path = os.ttyname(slave)
    os.close(slave)
    return master, path


def record_call(socket_path, method, params):
    import socket
    with socket.socket(socket.AF_UNIX) as connection:
        connection.connect(socket_path)
        connection.sendall((json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}) + "\n").encode())
        answer = b""
        while not answer.endswith(b"\n"):
            answer += connection.recv(65536)
    return json.loads(answer)


def key():
    import uuid
    return str(uuid.uuid4())


def average_update_bytes(url):
    """The live channel's bytes per update: the last 100 updates, replayed."""
    import socket
    host, port = url.split("//")[1].strip("/").split(":")
    last = json.loads(urllib.request.urlopen(url.rstrip("/") + "/state.json").read())["last_update"]
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(b"GET /events?after=%d HTTP/1.0\r\n\r\n" % max(last - 100, 0))
        connection.settimeout(1.0)
        received = b""
        try:
            while True:
                chunk = connection.recv(65536)
                if not chunk:
                    break
                received += chunk
        except socket.timeout:
            pass
    body = received.split(b"\r\n\r\n", 1)[1]
    updates = body.count(b"\nid: ") + body.startswith(b"id: ")
    return len(body) / max(updates, 1)


def percentile(values, fraction):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main():
    floorgate = sys.argv[1]
    directory = pathlib.Path(tempfile.mkdtemp(prefix="floorgate-page-bench-"))
    socket_path = str(directory / "record.sock")
    processes = []
    driver = None
    try:
        record = subprocess.Popen([floorgate, "record", "serve", "--db", str(directory / "record.sqlite"), "--socket", socket_path,
                                   "--password-rounds", "1000"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        processes.append(record)
        record.stdout.readline()
        example = json.loads((REPOSITORY / "examples/record-import.json").read_text())
        example["idempotency_key"] = key()
        record_call(socket_path, "record.import", example)
        record_call(socket_path, "instruction.approve", {"part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A",
                                                         "signature": {"user": "ada", "password": "bench-ada-1"}, "idempotency_key": key()})
        scanner = pty()
        calipers = [pty() for _ in range(DEVICES)]
        devices = f'[[device]]\nname = "scanner"\nprofile = "serial-scanner-usb-adapter"\npath = "{scanner[1]}"\n' + "".join(
            f'[[device]]\nname = "caliper-{i}"\nprofile = "mitutoyo-dp1va-rs232"\npath = "{path}"\n' for i, (_, path) in enumerate(calipers))
        (directory / "station.toml").write_text(
            f'station = "bench-3"\noperator = "olga"\nrecord_socket = "record.sock"\noutbox = "outbox.sqlite"\n'
            f'profiles = "{REPOSITORY / "devices"}"\nserial_pattern = "regex:^SN-[0-9]{{4}}$"\n[page]\nport = 0\n{devices}')
        gateway = subprocess.Popen([floorgate, "gateway", "--config", str(directory / "station.toml")],
                                   stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        processes.append(gateway)
        url = None
        while url is None:
            line = gateway.stdout.readline()
            if not line:
                raise RuntimeError("the gateway ended before its page listened")
            if "station page http://" in line:
                url = line[line.index("http://"):].strip()
        subprocess.Popen(["cat"], stdin=gateway.stdout, stdout=subprocess.DEVNULL)  # keep its output flowing

        page_bytes = len(urllib.request.urlopen(url).read())
        options = Options()
        options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1280,800"):
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
        driver.get(url)
        time.sleep(2)  # the devices connect, the live channel opens
        os.write(scanner[0], b"SN-0001\r")
        time.sleep(2)

        written = {}  # value text → epoch ms its frame's last byte was written
        start = time.time()
        sequence = 0
        while time.time() - start < DURATION:
            tick = time.time()
            for index, (master, _) in enumerate(calipers):
                target = start + (sequence // DEVICES) * PERIOD + index * PERIOD / DEVICES
                while time.time() < target:
                    time.sleep(0.0005)
                sequence += 1
                value = f"{10 + sequence / 1000:.3f}"
                os.write(master, b"01A+%s\r" % value.zfill(8).encode())
                written[f"{value} mm"] = time.time() * 1000
            del tick
        time.sleep(3)
        arrivals = driver.execute_script("return window.floorgateArrivals")
        update_bytes = average_update_bytes(url)
        latencies = [item["at"] - written[item["value"]] for item in arrivals if item["value"] in written]
        print("## Station page: device frame → page\n")
        print("Produced by `make bench` (scripts/bench-page.py, release build): headless Chromium with the")
        print(f"station page open, {DEVICES} simulated calipers on pseudo-terminals each sending a reading every")
        print(f"{int(PERIOD * 1000)} ms for {DURATION:.0f} s into an open build, through the gateway, its outbox and the record.")
        print("Latency is from the write of a frame's last byte to the page's script putting the reading on")
        print("the page (both on this machine's wall clock, millisecond resolution).\n")
        print("| readings sent | shown on the page | p50 ms | p99 ms | max ms |")
        print("|---:|---:|---:|---:|---:|")
        print(f"| {len(written)} | {len(latencies)} | {percentile(latencies, 0.5):.0f} | {percentile(latencies, 0.99):.0f} | {max(latencies):.0f} |\n")
        print(f"- page weight: {page_bytes / 1024:.1f} KB for the station page (HTML with its stylesheet and script inline,")
        print("  no other request); a live update averages " f"{update_bytes / 1024:.2f} KB (a reading: its list item and the")
        print("  latest-reading panel as HTML, in one Server-Sent Event).\n")
    finally:
        if driver:
            driver.quit()
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=20)


if __name__ == "__main__":
    main()
