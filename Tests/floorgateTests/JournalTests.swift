import DeviceIO
import FloorgateCore
import Foundation
import Glibc
import RecordProtocol
import Testing

/// The gateway's log read back from a real systemd-journald: journald runs in a private mount
/// namespace (its own /run/systemd and /run/log), the gateway's standard error is a file named by
/// JOURNAL_STREAM as systemd names the stream it gives a service, and `journalctl -o json` reads
/// the entries back.
@Suite("Logs in the journal", .timeLimit(.minutes(2)))
struct JournalTests {
    static let journald = ["/usr/lib/systemd/systemd-journald", "/lib/systemd/systemd-journald"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// Root (for the mount namespace), journald and journalctl: what the test needs.
    static let canRun = getuid() == 0 && journald != nil && FileManager.default.isExecutableFile(atPath: "/usr/bin/journalctl")
        && FileManager.default.isExecutableFile(atPath: "/usr/bin/unshare")

    /// Starts journald in a mount namespace of its own, runs the gateway with its standard error
    /// as the journal's stream, waits for the gateway to end and writes the journal's floorgate
    /// entries to journal.json.
    static let script = #"""
        set -eu
        scratch=$1 floorgate=$2 journald=$3
        mkdir -p /run/systemd /run/log
        mount -t tmpfs -o mode=0755 tmpfs /run/systemd
        mount -t tmpfs -o mode=0755 tmpfs /run/log
        mkdir /run/systemd/journal
        "$journald" & journald_pid=$!
        tries=0
        until [ -S /run/systemd/journal/socket ]; do
            tries=$((tries + 1)); [ $tries -lt 200 ] || { echo "journald did not start" >&2; exit 10; }
            sleep 0.05
        done
        : > "$scratch/gateway.err"
        JOURNAL_STREAM=$(stat -c %d:%i "$scratch/gateway.err") "$floorgate" gateway --config "$scratch/station.toml" \
            > "$scratch/gateway.out" 2>> "$scratch/gateway.err" &
        gateway_pid=$!
        echo $gateway_pid > "$scratch/gateway.pid"
        status=0; wait $gateway_pid || status=$?
        echo $status > "$scratch/gateway.status"
        tries=0
        until journalctl -D /run/log/journal -o json --no-pager SYSLOG_IDENTIFIER=floorgate MESSAGE=stopped | grep -q .; do
            tries=$((tries + 1)); [ $tries -lt 100 ] || break
            sleep 0.05
        done
        journalctl -D /run/log/journal -o json --no-pager SYSLOG_IDENTIFIER=floorgate _PID=$gateway_pid > "$scratch/journal.json"
        kill $journald_pid
        wait $journald_pid || true
        """#

    @Test("under systemd's stream the gateway's lines are journal entries with their priority and metadata as fields", .enabled(if: canRun))
    func gatewayEntries() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bench = try await TestBench.setUp(in: scratch)
        let (record, scanner, caliper) = (bench.record, bench.scanner, bench.caliper)
        try Self.script.write(toFile: scratch.path("journal.sh"), atomically: true, encoding: .utf8)
        let namespace = Process()
        namespace.executableURL = URL(fileURLWithPath: "/usr/bin/unshare")
        namespace.arguments = [
            "--mount", "--propagation", "private", "/bin/sh", scratch.path("journal.sh"), scratch.url.path, FloorgateProcess.executable.path,
            Self.journald ?? "",
        ]
        namespace.standardInput = FileHandle.nullDevice
        try namespace.run()
        defer { if namespace.isRunning { namespace.terminate() } }

        let deadline = ContinuousClock.now + .seconds(40)
        func output() -> String { (try? String(contentsOfFile: scratch.path("gateway.out"), encoding: .utf8)) ?? "" }
        while output().components(separatedBy: "  connected").count < 3 {
            try #require(ContinuousClock.now < deadline && namespace.isRunning, "the gateway did not connect both devices: \(output())")
            try await Task.sleep(for: .milliseconds(50))
        }
        try scanner.send(Array("SN-0009\r".utf8))
        while (try? await record.client.call("build.get", ["serial": "SN-0009"]))?["status"] != "open" {
            try #require(ContinuousClock.now < deadline, "the build did not open: \(output())")
            try await Task.sleep(for: .milliseconds(20))
        }
        caliper.hangUp()
        while !output().contains("NOT CONNECTED") {
            try #require(ContinuousClock.now < deadline, "the caliper's loss was not seen: \(output())")
            try await Task.sleep(for: .milliseconds(50))
        }
        let gateway = try #require(Int32(String(contentsOfFile: scratch.path("gateway.pid"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(gateway, SIGTERM)
        while namespace.isRunning {
            try #require(ContinuousClock.now < deadline, "the gateway or journald did not stop")
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(namespace.terminationStatus == 0)
        #expect(try String(contentsOfFile: scratch.path("gateway.status"), encoding: .utf8).hasPrefix("0"))

        let entries = try String(contentsOfFile: scratch.path("journal.json"), encoding: .utf8).split(separator: "\n")
            .map { try JSONValue(parsing: Array($0.utf8)) }
        func entry(_ message: String, _ field: String, _ value: String) -> JSONValue? {
            entries.first { $0["MESSAGE"] == .string(message) && $0[field] == .string(value) }
        }
        let connected = try #require(entry("connected", "DEVICE", "caliper"), "\(entries)")
        #expect(connected["PRIORITY"] == "6" && connected["LOGGER"] == "floorgate.gateway" && connected["_TRANSPORT"] == "journal")
        #expect(connected["CODE_FILE"]?.stringValue?.hasSuffix("DeviceSupervisor.swift") == true)
        let opened = try #require(entry("build open", "SERIAL", "SN-0009"), "\(entries)")
        #expect(opened["PRIORITY"] == "6" && opened["BUILD"]?.stringValue?.isEmpty == false)
        let lost = try #require(entry("device lost", "DEVICE", "caliper"), "\(entries)")
        #expect(lost["PRIORITY"] == "4" && lost["REASON"]?.stringValue?.isEmpty == false)
        #expect(entry("stopped", "PRIORITY", "6") != nil)
        // Nothing went to the stream as text: every line was an entry of its own.
        #expect(try String(contentsOfFile: scratch.path("gateway.err"), encoding: .utf8) == "")
        try await record.stop()
    }

    @Test("--log-format json writes one JSON object a line on standard error; text stays as it was")
    func jsonLines() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let socket = scratch.path("record.sock")
        let server = try FloorgateChild(
            ["record", "serve", "--db", scratch.path("record.sqlite"), "--socket", socket, "--password-rounds", "1000", "--log-format", "json"])
        _ = await server.firstLine()
        #expect(try await FloorgateProcess.run(["record", "import", RecordCommandTests.exampleImport, "--socket", socket]).status == 0)
        let deadline = ContinuousClock.now + .seconds(20)
        while !server.standardError.contains("record write") {
            try #require(ContinuousClock.now < deadline, "no log line: \(server.standardError)")
            try await Task.sleep(for: .milliseconds(20))
        }
        server.kill(SIGTERM)
        #expect(await server.wait(timeout: .seconds(10)) == 0)
        let lines = try server.standardError.split(separator: "\n").map { try JSONValue(parsing: Array($0.utf8)) }
        let write = try #require(lines.first { $0["message"] == "record write" }, "\(server.standardError)")
        #expect(write["level"] == "info" && write["logger"] == "floorgate.record")
        #expect(write["metadata"]?["method"] == "record.import")

        let refused = try await FloorgateProcess.run(["record", "serve", "--db", scratch.path("r.sqlite"), "--socket", socket, "--log-format", "xml"])
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("--log-format 'xml' is not one of: auto, text, journal, json"), "\(refused.standardError)")
    }
}
