public import DeviceProtocols
public import FloorgateCore
public import Foundation

/// One fixture file of byte cases for a protocol (Tests/Fixtures/<protocol>.json).
public struct DecodeFixtureFile: Decodable, Sendable {
    public let `protocol`: String
    public let cases: [DecodeFixtureCase]

    /// The fixture file for a protocol id, from Tests/Fixtures.
    public static func load(_ protocolID: String) throws -> DecodeFixtureFile {
        let data = try Data(contentsOf: FixturePaths.projectFixtures.appendingPathComponent("\(protocolID).json"))
        return try JSONDecoder().decode(DecodeFixtureFile.self, from: data)
    }
}

/// One byte case: input bytes, decoder options and the events `floorgate decode` must print.
public struct DecodeFixtureCase: Decodable, Sendable, CustomStringConvertible {
    public let name: String
    public let inputHex: String
    public let options: [String: String]
    /// The expected events as parsed JSON objects (every value is a string or null).
    public let expected: [[String: String?]]
    /// Well-formed frames consumed without an event (Open Protocol session messages), in order.
    public let silentHex: [String]?

    enum CodingKeys: String, CodingKey {
        case name
        case inputHex = "input_hex"
        case options
        case expected
        case silentHex = "silent_hex"
    }

    /// The silent frames' bytes.
    public var silentFrames: [[UInt8]] { (silentHex ?? []).map(Hex.bytes) }

    public var input: [UInt8] { Hex.bytes(inputHex) }

    /// The unit option (`--unit`), if the case sets one.
    public var suppliedUnit: MeasurementUnit? { options["unit"].flatMap { MeasurementUnit(code: $0) } }

    /// The decoder options the case sets (`layout` is `--layout`).
    public var decoderOptions: DecoderOptions {
        var decoderOptions = DecoderOptions()
        if let name = options["layout"], let layout = KeyboardLayout.named(name) {
            decoderOptions.keyboardLayout = layout
        }
        return decoderOptions
    }

    public var description: String { name }
}

/// The protocol ids whose fixtures the decoders must pass.
public let decoderFixtureProtocols = [
    "mitutoyo", "uwave", "sylvac", "digimatic", "torque-ascii", "open-protocol", "scanner-serial", "hid-keyboard", "hid-pos",
]

/// Where the fixtures live.
public enum FixturePaths {
    /// Tests/Fixtures of this repository.
    public static let projectFixtures = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("Fixtures")

    /// The team's shared fixture set beside the repository, when this checkout has one.
    public static var sharedFixtures: URL? {
        let shared = projectFixtures.deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("shared/fixtures")
        return FileManager.default.fileExists(atPath: shared.path) ? shared : nil
    }
}

public enum Hex {
    public static func bytes(_ hex: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var iterator = hex.utf8.makeIterator()
        while let high = iterator.next(), let low = iterator.next() {
            bytes.append(nibble(high) << 4 | nibble(low))
        }
        return bytes
    }

    private static func nibble(_ character: UInt8) -> UInt8 {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        default: character - UInt8(ascii: "A") + 10
        }
    }
}

/// Feeding a decoder in different read sizes.
public enum Chunking {
    /// Split points that cover the cases a serial port produces: everything at once, one byte at a
    /// time, two and three at a time, and several seeded random splits.
    public static func sizes(for count: Int, seed: UInt64) -> [[Int]] {
        guard count > 0 else { return [[]] }
        var plans: [[Int]] = [[count]]
        for step in 1...3 {
            plans.append(Array(repeating: step, count: count / step) + (count % step > 0 ? [count % step] : []))
        }
        var generator = SeededGenerator(seed: seed)
        for _ in 0..<5 {
            var plan: [Int] = []
            var left = count
            while left > 0 {
                let size = Int.random(in: 1...max(1, min(left, 17)), using: &generator)
                plan.append(size)
                left -= size
            }
            plans.append(plan)
        }
        return plans
    }

    /// Feeds `bytes` in reads of the given sizes, then finishes; returns the events of each call
    /// (one entry per feed, the last entry for `finish()`).
    public static func decodePerCall(_ bytes: [UInt8], sizes: [Int], decoder: inout some DeviceDecoder) -> [[DeviceEvent]] {
        var calls: [[DeviceEvent]] = []
        var start = 0
        for size in sizes {
            calls.append(decoder.feed(bytes[start..<(start + size)]))
            start += size
        }
        calls.append(decoder.finish())
        return calls
    }
}

/// A small deterministic random number generator (SplitMix64), so a failing split can be replayed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension DeviceEvent {
    /// The event's JSON line parsed back into an object, for comparison with fixture expectations.
    public var jsonObject: [String: String?] {
        (try? JSONDecoder().decode([String: String?].self, from: Data(jsonLine.utf8))) ?? ["unparseable": jsonLine]
    }
}
