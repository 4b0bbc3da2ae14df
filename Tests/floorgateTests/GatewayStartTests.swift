import Foundation
import Testing

@Suite("Gateway start", .timeLimit(.minutes(1)))
struct GatewayStartTests {
    @Test("an outbox that cannot be opened stops the gateway before anything listens, naming the file and the key")
    func unopenableOutbox() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        try writeTestStation(
            to: scratch.path("station.toml"), station: "bench-3", recordSocket: "record.sock", outbox: "no-such-directory/outbox.sqlite",
            scanner: "/dev/null", caliper: "/dev/null")
        let outcome = try await FloorgateProcess.run(["gateway", "--config", scratch.path("station.toml")])
        #expect(outcome.status == 1, "\(outcome.standardError)")
        #expect(outcome.standardError.contains("no-such-directory/outbox.sqlite") && outcome.standardError.contains("`outbox`"), "\(outcome.standardError)")
        #expect(!outcome.standardOutput.contains("station page http"), "the page listened before the gateway knew it could keep results")
    }
}
