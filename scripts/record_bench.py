"""What the record's benchmarks share (scripts/bench-record.py, scripts/bench-plant.py): a plain
client of the record's socket, the record they load, and the CPU time a process has used."""
import json, os, socket


def import_document(serials, results_per_build):
    """Two users, one part, one instruction whose single point takes `results_per_build`
    readings, and a released work order of `serials`."""
    return {
        "users": [
            {"login": "olga", "name": "Olga Operator", "roles": ["operator"], "password": "bench-olga-1"},
            {"login": "ada", "name": "Ada Approver", "roles": ["approver"], "password": "bench-ada-1"},
        ],
        "parts": [{"number": "BENCH-1", "revision": "A"}],
        "instructions": [{
            "part": "BENCH-1", "part_revision": "A", "operation": "010", "revision": "A", "title": "Benchmark",
            "steps": [{"key": "10", "title": "Measure", "points": [
                {"name": "diameter", "kind": "measure", "unit": "mm", "lower": "11.980", "upper": "12.020",
                 "count": results_per_build}]}],
        }],
        "work_orders": [{"number": "WO-BENCH", "part": "BENCH-1", "part_revision": "A", "quantity": len(serials),
                         "operations": ["010"], "serials": serials}],
    }


class Client:
    """One connection to the record's socket; a refusal ends the benchmark (it measures nothing)."""

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
                    raise SystemExit(f"benchmark: the record refused a request: {message['error']}")
                return message["result"]

    def call(self, method, params):
        self.sock.sendall(self.line(method, params))
        return self.answer()


def cpu_seconds(pid):
    """User + system CPU time a process has used (all its threads); 0 once it is gone."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    except FileNotFoundError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
