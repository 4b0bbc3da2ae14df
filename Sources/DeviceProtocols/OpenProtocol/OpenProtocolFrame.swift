public import FloorgateCore

/// One Open Protocol message as framed on the wire: the 20-byte header, the data field and the
/// NUL terminator (PROTOCOLS.md §4.1).
public struct OpenProtocolFrame: Sendable, Hashable {
    /// The whole frame, NUL included.
    public let raw: RawBytes
    /// The message id (`61` for MID 0061).
    public let mid: Int
    /// The revision; `000`, `001` and three spaces all mean 1.
    public let revision: Int
    /// The header's no-ack flag: true when the sender will not acknowledge subscription data.
    public let noAcknowledge: Bool

    /// The header and data without the NUL (the sender may have counted the NUL in the length;
    /// this is the same either way).
    public var content: RawBytes.SubSequence { raw.dropLast() }

    /// The data field: the content after the 20-byte header.
    public var data: RawBytes.SubSequence { content.dropFirst(OpenProtocolHeader.length) }
}

/// The 20-byte header's layout and the checks a header candidate must pass.
enum OpenProtocolHeader {
    static let length = 20
    static let maximumMessageLength = 9999

    /// Whether `byte` may stand at `offset` (8…19) of a header: revision digits or spaces, no-ack
    /// flag space, `0` or `1`, station, spindle, sequence and part fields digits or spaces.
    static func isValidShapeByte(_ byte: UInt8, at offset: Int) -> Bool {
        if offset == 11 {
            return byte == ASCII.space || byte == UInt8(ascii: "0") || byte == UInt8(ascii: "1")
        }
        return ASCII.isDigit(byte) || byte == ASCII.space
    }

    /// The value of a run of ASCII digits; callers pass at most 18 (fields are at most 10 wide).
    static func number(_ bytes: some Collection<UInt8>) -> Int {
        bytes.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    /// The revision a header's field names: spaces trimmed; empty, `0` and `1` are revision 1.
    /// Nil when the field mixes digits and inner spaces.
    static func revision(_ field: some Collection<UInt8>) -> Int? {
        let trimmed = field.drop { $0 == ASCII.space }.reversed().drop { $0 == ASCII.space }.reversed()
        guard trimmed.allSatisfy(ASCII.isDigit) else { return nil }
        return max(1, number(trimmed))
    }
}
