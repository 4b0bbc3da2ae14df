import Barcodes
import FixtureSupport
import Foundation
import Testing

/// One case of the shared barcode-parse fixtures.
struct BarcodeParseCase: Decodable, Sendable, CustomStringConvertible {
    let name: String
    let input: String
    let args: [String]
    let expected: JSONObject

    var description: String { name }

    static func load() throws -> [BarcodeParseCase] {
        struct File: Decodable { let cases: [BarcodeParseCase] }
        let data = try Data(contentsOf: FixturePaths.projectFixtures.appendingPathComponent("barcode-parse.json"))
        return try JSONDecoder().decode(File.self, from: data).cases
    }
}

/// A JSON value kept as Foundation objects, compared structurally (key order does not matter).
struct JSONObject: Decodable, Sendable, Equatable, CustomStringConvertible {
    let text: String

    init(from decoder: any Decoder) throws {
        text = String(decoding: try JSONEncoder().encode(try AnyJSON(from: decoder)), as: UTF8.self)
    }

    init(text: String) { self.text = text }

    static func == (left: JSONObject, right: JSONObject) -> Bool {
        guard let a = try? JSONSerialization.jsonObject(with: Data(left.text.utf8)) as? NSDictionary,
              let b = try? JSONSerialization.jsonObject(with: Data(right.text.utf8)) as? NSDictionary
        else { return false }
        return a.isEqual(b)
    }

    var description: String { text }
}

/// Any JSON value, decoded and re-encoded.
indirect enum AnyJSON: Codable {
    case string(String), number(Double), bool(Bool), null, array([AnyJSON]), object([String: AnyJSON])

    init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { self = .null }
        else if let value = try? container.decode(Bool.self) { self = .bool(value) }
        else if let value = try? container.decode(String.self) { self = .string(value) }
        else if let value = try? container.decode(Double.self) { self = .number(value) }
        else if let value = try? container.decode([AnyJSON].self) { self = .array(value) }
        else { self = .object(try container.decode([String: AnyJSON].self)) }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .string(let value): try container.encode(value)
        case .number(let value): try container.encode(value)
        case .bool(let value): try container.encode(value)
        case .null: try container.encodeNil()
        case .array(let value): try container.encode(value)
        case .object(let value): try container.encode(value)
        }
    }
}

@Suite("barcode parse fixtures", .timeLimit(.minutes(1)))
struct BarcodeParseFixtureTests {
    @Test("every shared case prints its expected object")
    func everyCase() throws {
        let cases = try BarcodeParseCase.load()
        #expect(cases.count >= 50)
        for fixture in cases {
            let content = ScannedContent(parsing: fixture.input, assumeGS1: fixture.args.contains("--gs1"))
            #expect(JSONObject(text: content.jsonLine) == fixture.expected, "\(fixture.name)")
        }
    }

    @Test("the copy in Tests/Fixtures matches the shared fixture set", .enabled(if: FixturePaths.sharedFixtures != nil, "no ../shared/fixtures beside this clone"))
    func fixtureHasNotDrifted() throws {
        let shared = try #require(FixturePaths.sharedFixtures)
        let original = try Data(contentsOf: shared.appendingPathComponent("barcode-parse.json"))
        let copy = try Data(contentsOf: FixturePaths.projectFixtures.appendingPathComponent("barcode-parse.json"))
        #expect(original == copy, "Tests/Fixtures/barcode-parse.json differs from shared/fixtures; run `make fixtures`")
    }
}
