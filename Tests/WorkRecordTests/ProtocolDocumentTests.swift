import FixtureSupport
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

@Suite("docs/record-protocol.md is what the record does", .timeLimit(.minutes(3)))
struct ProtocolDocumentTests {
    /// One example of the document: a request, its answer, the notifications it caused.
    struct Example {
        var request: JSONValue
        var response: JSONValue?
        var notifications: [JSONValue] = []
    }

    /// The `json request`, `json response` and `json notification` blocks, in order.
    static func examples() throws -> [Example] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("docs/record-protocol.md")
        let lines = try String(contentsOf: url, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
        var examples: [Example] = []
        var block: (kind: String, text: String)?
        for line in lines {
            if let open = block {
                if line == "```" {
                    let value = try JSONValue(parsing: Array(open.text.utf8))
                    switch open.kind {
                    case "request": examples.append(Example(request: value))
                    case "response": examples[examples.count - 1].response = value
                    default: examples[examples.count - 1].notifications.append(value)
                    }
                    block = nil
                } else {
                    block?.text += line + "\n"
                }
            } else if line.hasPrefix("```json ") {
                block = (String(line.dropFirst("```json ".count)), "")
            }
        }
        return examples
    }

    @Test("every documented request, sent in order to a fresh record, gets the documented answer and notifications", arguments: RecordHarness.backends)
    func documentedSession(_ backend: RecordBackendKind) async throws {
        let examples = try Self.examples()
        #expect(examples.count >= 20)
        let documented = Set(examples.compactMap { $0.request["method"]?.stringValue })
        let served = Set(RecordService.methodNames.map(\.rawValue))
        #expect(documented.isSuperset(of: served), "undocumented: \(served.subtracting(documented))")
        let harness = try await RecordHarness(backend)
        let client = harness.client()
        for example in examples {
            let response = try await client.exchange(rawLine: example.request.text)
            let method = example.request["method"]?.stringValue ?? "?"
            // The notifications the request caused came before its answer; one more would show
            // up as the next example's.
            var notifications: [JSONValue] = []
            for _ in example.notifications {
                guard let notification = await client.nextNotification(timeout: .seconds(5)) else { break }
                notifications.append(RecordMessage.notification(notification))
            }
            let expected = try #require(example.response, "\(method): no documented response")
            #expect(Self.matches(response, expected), "\(method) (id \(example.request["id"]?.text ?? "?")) answered \(response.text)")
            #expect(notifications.count == example.notifications.count, "\(method) sent \(notifications.map(\.text))")
            for (sent, shown) in zip(notifications, example.notifications) {
                #expect(Self.matches(sent, shown), "\(method) notified \(sent.text)")
            }
        }
        #expect(await client.nextNotification(timeout: .milliseconds(300)) == nil, "a notification no example shows")
        try await harness.stop()
    }

    /// Equal, except values that change from run to run (times, hashes), which need only be
    /// present with the same JSON type.
    static func matches(_ actual: JSONValue, _ expected: JSONValue, key: String = "") -> Bool {
        // Counted from today: any whole number of days.
        if key == "days_until_due" {
            switch (actual, expected) {
            case (.integer, .integer), (.null, .null): return true
            default: return false
            }
        }
        // Times, the chain's head, and how long after measuring a result was recorded: they
        // depend on when the document is replayed; so do an audit entry's time, hash (its
        // chain's times are in it), its server's key and signature and the writer's process id.
        if key.hasSuffix("_at") || ["audit_head", "time_note", "at", "key_id", "signature", "peer"].contains(key) {
            switch (actual, expected) {
            case (.string, .string), (.null, .null): return true
            default: return false
            }
        }
        if key == "hash", let left = actual.stringValue, let right = expected.stringValue {
            return left.utf8.count == 64 && right.utf8.count == 64
        }
        switch (actual, expected) {
        case (.object(let left), .object(let right)):
            return Set(left.keys) == Set(right.keys) && left.allSatisfy { matches($0.value, right[$0.key] ?? .null, key: $0.key) }
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { matches($0, $1, key: key) }
        default:
            return actual == expected
        }
    }
}
