import FloorgateCore

/// libFuzzer entry point for `JSONValue(parsing:)`: any bytes either fail to parse or give a
/// value whose printed text reads back as the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    guard let value = try? JSONValue(parsing: UnsafeBufferPointer(start: data, count: size)) else { return 0 }
    guard let again = try? JSONValue(parsing: Array(value.text.utf8)), again == value else {
        fatalError("JSON round trip changed the value: \(value.text)")
    }
    return 0
}
