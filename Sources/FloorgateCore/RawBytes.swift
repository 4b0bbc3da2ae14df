/// The bytes an event came from, exactly as the device sent them.
///
/// Decoders cut these out of the read they arrived in without copying: several events of one read
/// share its storage, so decoding costs one copy per read rather than one allocation per frame.
/// Indices always start at 0, whatever part of the read the bytes came from.
public struct RawBytes: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral, CustomStringConvertible {
    private let storage: ArraySlice<UInt8>

    /// Bytes that share storage with a larger buffer (a whole read).
    public init(_ slice: ArraySlice<UInt8>) {
        storage = slice
    }

    /// Bytes with storage of their own.
    public init(_ bytes: [UInt8]) {
        storage = bytes[...]
    }

    public init(arrayLiteral bytes: UInt8...) {
        storage = bytes[...]
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { storage.count }

    public subscript(position: Int) -> UInt8 {
        storage[storage.startIndex + position]
    }

    /// Lowercase hex, two digits per byte (`raw_hex` in JSON).
    public var description: String { DeviceEvent.hex(self) }

    public static func == (lhs: RawBytes, rhs: RawBytes) -> Bool {
        lhs.storage.elementsEqual(rhs.storage)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(storage.count)
        for byte in storage { hasher.combine(byte) }
    }
}
