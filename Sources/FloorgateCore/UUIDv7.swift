public import Foundation

/// UUID version 7 (RFC 9562): 48 bits of Unix time in milliseconds, then random bits, so ids
/// sort by creation time to the millisecond. Used as idempotency keys.
public enum UUIDv7 {
    /// A new UUIDv7 for the instant `now`, as the key text the record and the outbox keep:
    /// lowercase, `8-4-4-4-12` hex digits.
    public static func make(now: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        let milliseconds = UInt64(max(0, now.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<6 {
            bytes[index] = UInt8(truncatingIfNeeded: milliseconds >> UInt64(8 * (5 - index)))
        }
        var random = (generator.next() as UInt64, generator.next() as UInt64)
        withUnsafeBytes(of: &random) { randomBytes in
            for index in 6..<16 { bytes[index] = randomBytes[index] }
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        let hex = DeviceEvent.hex(bytes)
        let digits = Array(hex.utf8)
        var text: [UInt8] = []
        text.reserveCapacity(36)
        for (index, digit) in digits.enumerated() {
            if index == 8 || index == 12 || index == 16 || index == 20 { text.append(UInt8(ascii: "-")) }
            text.append(digit)
        }
        return String(decoding: text, as: UTF8.self)
    }
}
