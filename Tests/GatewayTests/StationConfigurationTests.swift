import FloorgateCore
import Foundation
import Gateway
import Testing

@Suite("Station configuration", .timeLimit(.minutes(1)))
struct StationConfigurationTests {
    private static let devices = StationHarness.repository.appendingPathComponent("devices").path

    /// examples/station.toml with its profiles folder pointed at the source tree's.
    private func exampleText() throws -> String {
        let text = try String(contentsOf: StationHarness.repository.appendingPathComponent("examples/station.toml"), encoding: .utf8)
        return text.replacingOccurrences(of: "\"/usr/share/floorgate/devices\"", with: "\"\(Self.devices)\"")
    }

    @Test("the example configuration loads: four devices, by link, fixed port and network address")
    func exampleLoads() throws {
        let configuration = try StationConfiguration.parse(try exampleText(), file: "station.toml", relativeTo: "/etc/floorgate")
        #expect(configuration.station == "bench-3")
        #expect(configuration.serialPattern == .gs1Serial(gtin: nil))
        #expect(configuration.devices.map(\.name) == ["scanner", "caliper", "torque-tester", "nutrunner"])
        #expect(configuration.devices[1].connection == .node(.path("/dev/floorgate/gauge-FT4UV7PX")))
        #expect(configuration.devices[2].connection == .node(.usbSerial("TST0042", subsystem: "tty")))
        #expect(configuration.devices[1].serial == "CAL-0042")
        #expect(configuration.devices[3].connection == .network(host: "10.0.4.21", port: 4545))
        #expect(configuration.devices[2].profile.protocolID == "torque-ascii")
        // A network controller is commanded unless the station says otherwise.
        #expect(configuration.devices[3].commands && configuration.devices[3].toolNumber == nil)
        #expect(!configuration.devices[0].commands)
    }

    private func problem(_ text: String) -> ConfigurationError? {
        do {
            _ = try StationConfiguration.parse(text, file: "station.toml", relativeTo: "/tmp")
            return nil
        } catch {
            return error
        }
    }

    private let head = """
        station = "bench-3"
        operator = "olga"
        profiles = "\(devices)"
        serial_pattern = "gs1:21"

        """

    @Test("a bad configuration is refused with its line and key",
          arguments: [
              ("[[device]]\nname = \"c\"\nprofile = \"mitutoyo-dp1va-rs232\"\n", 5, "device[0].path", "missing"),
              ("[[device]]\nname = \"c\"\nprofile = \"nope\"\npath = \"/dev/x\"\n", 7, "device[0].profile", "nope.toml"),
              ("[[device]]\nname = \"c\"\nprofile = \"atlas-copco-pf6000\"\npath = \"/dev/x\"\n", 5, "device[0].host", "address"),
              ("[[device]]\nname = \"c\"\nprofile = \"norbar-tst\"\npath = \"/dev/a\"\n[[device]]\nname = \"c\"\nprofile = \"norbar-tst\"\npath = \"/dev/b\"\n", 10, "device[1].name", "two devices"),
              ("[[device]]\nname = \"c\"\nprofile = \"norbar-tst\"\npath = \"/dev/a\"\nbaud = 9600\n", 9, "device[0].baud", "unknown key"),
              ("", 0, "device", "no devices"),
              ("[[device]]\nname = \"c\"\nprofile = \"norbar-tst\"\npath = \"/dev/a\"\n[page]\naddress = \"0.0.0.0\"\n", 10, "page.address", "plain HTTP beyond this machine"),
              ("[[device]]\nname = \"c\"\nprofile = \"norbar-tst\"\npath = \"/dev/a\"\n[page]\ntls_key = \"page.key\"\n", 10, "page.tls_key", "without its certificate"),
              ("[[device]]\nname = \"c\"\nprofile = \"norbar-tst\"\npath = \"/dev/a\"\n[page]\ntls_certificate = \"page.pem\"\n", 10, "page.tls_certificate", "without its key"),
              ("[[device]]\nname = \"c\"\nprofile = \"norbar-tst\"\npath = \"/dev/a\"\ncommand = true\n", 9, "device[0].command", "only a network controller"),
              ("[[device]]\nname = \"c\"\nprofile = \"atlas-copco-pf6000\"\nhost = \"10.0.4.21\"\ntool_number = 0\n", 9, "device[0].tool_number", "not a tool number"),
          ])
    func refused(tail: String, line: Int, key: String, words: String) throws {
        let error = try #require(problem(head + tail))
        #expect(error.key == key)
        #expect(error.line == line, "\(error)")
        #expect(error.problem.contains(words), "\(error)")
    }

    @Test("a serial pattern that cannot be read names what is allowed")
    func badPattern() throws {
        let error = try #require(problem(head.replacingOccurrences(of: "gs1:21", with: "gs1:10") + "[[device]]\nname = \"c\"\nprofile = \"norbar-tst\"\npath = \"/dev/a\"\n"))
        #expect(error.key == "serial_pattern" && error.line == 4)
        #expect(error.problem.contains("AI 21"))
    }
}
