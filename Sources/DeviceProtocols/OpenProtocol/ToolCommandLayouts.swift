public import FloorgateCore

/// A controller's selected program (parameter set) as MID 0015 reports it: revision 1 has its
/// id and the date of its last change; revision 2 adds its name, batch size and limits, which
/// Floorgate checks against the point the program was selected for.
public struct ProgramSelection: Sendable, Hashable {
    public var id: Int
    public var name: String?
    public var batchSize: Int?
    public var torqueMinimum: ExactDecimal?
    public var torqueMaximum: ExactDecimal?
    public var torqueTarget: ExactDecimal?
    public var angleMinimum: ExactDecimal?
    public var angleMaximum: ExactDecimal?
    public var angleTarget: ExactDecimal?

    public init(
        id: Int, name: String? = nil, batchSize: Int? = nil, torqueMinimum: ExactDecimal? = nil, torqueMaximum: ExactDecimal? = nil,
        torqueTarget: ExactDecimal? = nil, angleMinimum: ExactDecimal? = nil, angleMaximum: ExactDecimal? = nil, angleTarget: ExactDecimal? = nil
    ) {
        self.id = id
        self.name = name
        self.batchSize = batchSize
        self.torqueMinimum = torqueMinimum
        self.torqueMaximum = torqueMaximum
        self.torqueTarget = torqueTarget
        self.angleMinimum = angleMinimum
        self.angleMaximum = angleMaximum
        self.angleTarget = angleTarget
    }

    /// MID 0015 revision 2's fields after the header: parameter id, width, and the torque
    /// (×100) or whole-number field each fills (PROTOCOLS.md-style offsets; spec R2.8 table 30,
    /// whose byte column is corrected from parameter 10 on to the 141-byte frames controllers send).
    static let revision2: [(id: Int, width: Int)] = [
        (1, 3), (2, 25), (3, 19), (4, 1), (5, 2), (6, 6), (7, 6), (8, 6), (9, 5), (10, 5), (11, 5), (12, 6), (13, 6),
    ]

    /// Reads MID 0015 content: revision 1 (pset id, date; 42 bytes) or 2 and later (the
    /// revision-2 layout, which later revisions extend).
    init(_ content: [UInt8], revision: Int) throws(DecodeFailure) {
        if revision < 2 {
            let fields = try FieldReader(content, minimumLength: 42)
            id = try Self.number(fields.value(id: nil, at: 20, width: 3))
            return
        }
        let fields = try FieldReader(content, minimumLength: 141)
        var offset = 20
        var values: [Int: ArraySlice<UInt8>] = [:]
        for (id, width) in Self.revision2 {
            values[id] = try fields.value(id: id, at: offset + 2, width: width)
            offset += 2 + width
        }
        func value(_ id: Int) -> ArraySlice<UInt8> { values[id] ?? [] }
        self.id = try Self.number(value(1))
        name = try fields.text(id: 2, at: 27, width: 25)
        if name?.isEmpty == true { name = nil }
        batchSize = try Self.number(value(5))
        torqueMinimum = try Self.decimal(value(6), scale: 2)
        torqueMaximum = try Self.decimal(value(7), scale: 2)
        torqueTarget = try Self.decimal(value(8), scale: 2)
        angleMinimum = try Self.decimal(value(9), scale: 0)
        angleMaximum = try Self.decimal(value(10), scale: 0)
        angleTarget = try Self.decimal(value(11), scale: 0)
    }

    private static func number(_ raw: ArraySlice<UInt8>) throws(DecodeFailure) -> Int {
        guard !raw.isEmpty, raw.allSatisfy(ASCII.isDigit) else { throw .malformedFrame }
        return OpenProtocolHeader.number(raw)
    }

    private static func decimal(_ raw: ArraySlice<UInt8>, scale: Int) throws(DecodeFailure) -> ExactDecimal {
        guard let value = ExactDecimal(digits: UInt64(try number(raw)), scale: scale) else { throw .malformedFrame }
        return value
    }
}

/// Reads MID 0041 (tool data upload reply): the revision-1 fields every revision begins with.
enum ToolDataReader {
    static func identity(_ content: [UInt8]) throws(DecodeFailure) -> ToolIdentity {
        let fields = try FieldReader(content, minimumLength: 81)
        let serial = try fields.text(id: 1, at: 22, width: 14)
        // Some controllers left-justify the count with spaces (the specification's own example).
        let count = try fields.text(id: 2, at: 38, width: 10)
        let calibration = try fields.text(id: 3, at: 50, width: 19)
        _ = try fields.text(id: 4, at: 71, width: 10)
        guard count.isEmpty || count.utf8.allSatisfy(ASCII.isDigit) else { throw .malformedFrame }
        // `2026-10-01:07:30:00` → `2026-10-01`; a non-date ("Last Change Unknown") is left out.
        let day = String(calibration.prefix(10))
        let isDay = day.utf8.count == 10 && day.utf8.enumerated().allSatisfy { index, byte in
            index == 4 || index == 7 ? byte == UInt8(ascii: "-") : ASCII.isDigit(byte)
        }
        return ToolIdentity(serial: serial.isEmpty ? nil : serial, tightenings: Int64(count), calibratedOn: isDay ? day : nil)
    }
}
