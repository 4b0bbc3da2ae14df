import DeviceIO
import FloorgateCore
import FixtureSupport
import Foundation
import RecordProtocol
import Testing

/// `/metrics` of a running record server and gateway, scraped as Prometheus would, checked to move
/// with what happened.
@Suite("Metrics", .timeLimit(.minutes(2)))
struct MetricsTests {
    /// The samples of a scrape without help, type and bucket lines: `name{labels}` → value.
    static func scrape(_ url: String) async throws -> [String: Double] {
        let text = try await offThePool {
            let curl = Process()
            curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            curl.arguments = ["-s", "--max-time", "10", url]
            let output = Pipe()
            curl.standardOutput = output
            try curl.run()
            let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            curl.waitUntilExit()
            return text
        }
        var samples: [String: Double] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.contains("_bucket") {
            guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
            samples[String(line[..<space])] = value
        }
        return samples
    }

    /// The address a child printed on a line starting with `prefix`.
    static func address(_ child: FloorgateChild, after prefix: String) async throws -> String {
        let deadline = ContinuousClock.now + .seconds(20)
        while ContinuousClock.now < deadline {
            if let line = child.standardOutput.split(separator: "\n").first(where: { $0.contains(prefix) && $0.contains("http://") }),
               let start = line.range(of: "http://") {
                return String(line[start.lowerBound...])
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        Issue.record("no line with \(prefix) and an address: \(child.standardOutput)\n\(child.standardError)")
        throw HarnessError.simulatorDidNotStart
    }

    @Test("record serve --metrics counts calls by method and code, signature attempts by outcome and its commits")
    func record() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let socket = scratch.path("record.sock")
        let server = try FloorgateChild(
            ["record", "serve", "--db", scratch.path("record.sqlite"), "--socket", socket, "--password-rounds", "1000", "--metrics", "127.0.0.1:0"])
        defer { server.kill(SIGKILL) }
        let url = try await Self.address(server, after: "metrics on ")
        #expect(try await Self.scrape(url)["floorgate_record_calls_total{method=\"record.import\",code=\"0\"}"] == nil)
        #expect(try await FloorgateProcess.run(["record", "import", RecordCommandTests.exampleImport, "--socket", socket]).status == 0)
        let approve = ["record", "approve", "--part", "HX-200", "--part-revision", "C", "--operation", "010", "--revision", "A", "--user", "ada", "--socket", socket]
        #expect(try await FloorgateProcess.run(approve, input: Array("not-her-password\n".utf8)).status == 1)
        let samples = try await Self.scrape(url)
        #expect(samples["floorgate_record_calls_total{method=\"record.import\",code=\"0\"}"] == 1, "\(samples)")
        #expect(samples["floorgate_record_calls_total{method=\"instruction.approve\",code=\"1007\"}"] == 1, "\(samples)")
        #expect(samples["floorgate_signature_attempts_total{outcome=\"rejected\"}"] == 1, "\(samples)")
        #expect((samples["floorgate_record_commit_seconds_count"] ?? 0) >= 2, "\(samples)")
        #expect(samples["floorgate_record_call_seconds_count{method=\"record.import\"}"] == 1, "\(samples)")
    }

    @Test("the gateway's [metrics] counts devices by state, results committed and delivered, their latencies and the outbox's depth")
    func gateway() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bench = try await TestBench.setUp(in: scratch, more: "[metrics]\nport = 0")
        let (record, scanner, caliper, client) = (bench.record, bench.scanner, bench.caliper, bench.record.client)
        let gateway = try FloorgateChild(["gateway", "--config", scratch.path("station.toml")])
        let url = try await Self.address(gateway, after: "metrics ")
        let deadline = ContinuousClock.now + .seconds(20)
        while try await Self.scrape(url)["floorgate_devices{state=\"connected\"}"] != 2 {
            try #require(ContinuousClock.now < deadline, "the devices did not connect: \(gateway.standardOutput)")
            try await Task.sleep(for: .milliseconds(50))
        }
        try scanner.send(Array("SN-0009\r".utf8))
        while (try? await client.call("build.get", ["serial": "SN-0009"]))?["status"] != "open" {
            try #require(ContinuousClock.now < deadline, "the build did not open: \(gateway.standardOutput)")
            try await Task.sleep(for: .milliseconds(20))
        }
        for value in ["0001.001", "0001.002", "0001.003"] { try caliper.send(Array("01A+\(value)\r".utf8)) }
        var samples: [String: Double] = [:]
        while samples["floorgate_results_delivered_total"] != 4 {
            try #require(ContinuousClock.now < deadline + .seconds(20), "the results were not delivered: \(samples)")
            try await Task.sleep(for: .milliseconds(50))
            samples = try await Self.scrape(url)
        }
        #expect(samples["floorgate_results_committed_total"] == 4, "\(samples)")
        #expect(samples["floorgate_read_to_commit_seconds_count"] == 4, "\(samples)")
        #expect(samples["floorgate_commit_to_delivered_seconds_count"] == 4, "\(samples)")
        #expect((samples["floorgate_outbox_commit_seconds_count"] ?? 0) >= 1, "\(samples)")
        #expect([0, 1].contains(samples["floorgate_clock_synchronized"]), "\(samples)")
        #expect(samples["floorgate_devices{state=\"lost\"}"] == 0 && (samples["floorgate_results_unbound_total"] ?? 0) == 0, "\(samples)")
        while try await Self.scrape(url)["floorgate_outbox_pending"] != 0 {  // read every 5 s
            try #require(ContinuousClock.now < deadline + .seconds(40))
            try await Task.sleep(for: .milliseconds(200))
        }
        gateway.kill(SIGTERM)
        #expect(await gateway.wait(timeout: .seconds(15)) == 0, "\(gateway.standardError.suffix(2000))")
        try await record.stop()
    }
}
