import FloorgateCore
import Foundation
import Testing

@Suite("floorgate demo")
struct DemoCommandTests {
    private static let devices = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("devices").path

    @Test("--script plays the whole build with every device in its own process and exits 0 on a complete DHR")
    func scriptedBuild() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let demo = try FloorgateChild(["demo", "--script", "--page-port", "0", "--dir", scratch.url.path, "--profiles", Self.devices])
        let status = await demo.wait(timeout: .seconds(120))
        #expect(status == 0, "\(demo.standardOutput)\n\(demo.standardError)")
        let dhr = try JSONValue(parsing: try Data(contentsOf: scratch.url.appendingPathComponent("SN-0001-dhr.json")))
        let build = try #require(dhr["builds"]?.arrayValue?.first)
        let points = (build["results"]?.arrayValue ?? []).compactMap { $0["point"]?.stringValue }
        #expect(points == ["bore diameter", "bore diameter", "bore diameter", "board lot", "cover screws", "cover screws", "audit torque"])
        #expect(demo.standardOutput.contains("FAIL HIGH"))
        #expect(demo.standardOutput.contains("Demo complete"))
        let html = try String(contentsOf: scratch.url.appendingPathComponent("SN-0001-dhr.html"), encoding: .utf8)
        #expect(html.contains("SN-0001"))
        for file in ["record.sqlite", "outbox.sqlite", "station.toml", "gateway.log"] {
            #expect(FileManager.default.fileExists(atPath: scratch.path(file)), "\(file) kept in --dir")
        }
    }

    @Test("without the device profiles the demo says where it looked, exit 2")
    func missingProfiles() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let demo = try FloorgateChild(["demo", "--script", "--dir", scratch.url.path, "--profiles", scratch.path("nowhere")])
        #expect(await demo.wait(timeout: .seconds(20)) == 2)
        #expect(demo.standardError.contains("nowhere/serial-scanner-usb-adapter.toml"))
    }
}
