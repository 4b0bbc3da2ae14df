import Barcodes
import Foundation

/// libFuzzer entry point for scanned-content parsing (`floorgate barcode parse`): any bytes, read
/// as the scanner's text, give a result without trapping; its JSON line is valid JSON; it is
/// valid exactly when it lists no error; GS1 parsing of the raw bytes never traps either.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let text = String(decoding: bytes, as: UTF8.self)
    for assumeGS1 in [false, true] {
        let content = ScannedContent(parsing: text, assumeGS1: assumeGS1)
        // Foundation's reader: the record socket's strict one refuses U+0000, which scans may hold.
        guard let object = try? JSONSerialization.jsonObject(with: Data(content.jsonLine.utf8)) as? [String: Any] else {
            fatalError("barcode parse printed invalid JSON: \(content.jsonLine)")
        }
        precondition(object["valid"] as? Bool == content.errors.isEmpty, "valid does not match the errors")
    }
    _ = GS1ElementStrings.parse(bytes)
    return 0
}
