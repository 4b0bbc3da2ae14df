import FixtureSupport
import Foundation
import Testing

@Suite("floorgate barcode parse", .timeLimit(.minutes(3)))
struct BarcodeCommandTests {
    /// The shared cases as Foundation objects: input, extra arguments, expected object.
    static func cases() throws -> [(input: String, args: [String], expected: NSDictionary)] {
        let data = try Data(contentsOf: FixturePaths.projectFixtures.appendingPathComponent("barcode-parse.json"))
        let file = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let cases = try #require(file["cases"] as? [[String: Any]])
        return try cases.map { item in
            (try #require(item["input"] as? String), try #require(item["args"] as? [String]), try #require(item["expected"] as? NSDictionary))
        }
    }

    static func objects(_ output: String) throws -> [NSDictionary] {
        try output.split(separator: "\n").map { line in
            try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? NSDictionary)
        }
    }

    @Test("every shared case, given as arguments, prints its expected object and exits 0")
    func fixturesAsArguments() async throws {
        let cases = try Self.cases()
        for arguments in Set(cases.map(\.args)) {
            let group = cases.filter { $0.args == arguments }
            let outcome = try await FloorgateProcess.run(["barcode", "parse"] + arguments + group.map(\.input))
            #expect(outcome.status == 0, "\(outcome.standardError)")
            let printed = try Self.objects(outcome.standardOutput)
            #expect(printed.count == group.count)
            for (object, fixture) in zip(printed, group) {
                #expect(object.isEqual(fixture.expected), "\(fixture.input.debugDescription): \(object)")
            }
        }
    }

    @Test("standard input is one scan per line; --escapes turns \\x1d into GS")
    func standardInputAndEscapes() async throws {
        let outcome = try await FloorgateProcess.run(
            ["barcode", "parse", "--escapes"],
            input: Array("]C1010429817350024310A1\\x1d21S1\r\n+E123PN4711A04\nWO-1\n".utf8)
        )
        #expect(outcome.status == 0)
        let printed = try Self.objects(outcome.standardOutput)
        #expect(printed.map { $0["scheme"] as? String } == ["gs1", "hibc", "plain"])
        #expect(printed.map { $0["valid"] as? Bool } == [true, false, true])
        #expect(printed.first?["input"] as? String == "]C1010429817350024310A1\u{1D}21S1")
    }

    @Test("bad usage exits 2; bad content never does")
    func exitCodes() async throws {
        #expect(try await FloorgateProcess.run(["barcode", "parse", "--no-such-flag"]).status == 2)
        #expect(try await FloorgateProcess.run(["barcode", "parse", "]C1\u{1D}\u{1D}99", "]C19999"]).status == 0)
    }
}

@Suite("floorgate profiles check", .timeLimit(.minutes(3)))
struct ProfilesCheckCommandTests {
    @Test("the shipped profiles pass; a bad one is named with file, line and key, and exits 2")
    func check() async throws {
        let devices = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("devices").path
        let good = try await FloorgateProcess.run(["profiles", "check", devices])
        #expect(good.status == 0, "\(good.standardError)")
        #expect(good.standardOutput.contains("10 profiles good, 0 refused"))

        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let bad = scratch.path("caliper.toml")
        try "kind = \"gauge\"\nprotocol = \"mitutoyo\"\n\n[transport]\ntype = \"serial\"\nbaud = 9601\n\n[match]\nsubsystem = \"tty\"\n"
            .write(toFile: bad, atomically: true, encoding: .utf8)
        let refused = try await FloorgateProcess.run(["profiles", "check", bad, devices + "/norbar-tst.toml"])
        #expect(refused.status == 2)
        #expect(refused.standardError.contains("caliper.toml:6: key 'transport.baud': 9601 is not supported; allowed: 1200,"))
        #expect(refused.standardOutput.contains("ok  norbar-tst: torque, torque-ascii over serial 1200 8N2"))
    }
}
