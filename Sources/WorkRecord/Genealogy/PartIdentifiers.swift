import Barcodes
import RecordProtocol

/// The identifiers that name a part on labels: its GTIN (for a finished device, its UDI-DI) and
/// its HIBC labeler and product code, each naming one part only.
enum PartIdentifiers {
    /// Records the `gtin` and `hibc` of an imported part's entry, checked.
    static func record(_ part: Parameters, partID: Int64, writer: AuditedWriter) async throws {
        if let gtin = try part.optionalString("gtin") {
            guard gtin.utf8.count == 14, GS1ElementStrings.parseBracketed("(01)\(gtin)").isValid else {
                throw WorkRecordError(.invalidParams, "\(part.path).gtin '\(gtin)' is not a GTIN: 14 digits with a valid check digit (pad shorter GTINs with leading zeros)")
            }
            try await insert(partID, "gtin", gtin, writer)
        }
        if let hibc = try part.optionalString("hibc") {
            // A labeler code of four characters, the first a letter, then the product number.
            guard hibc.utf8.count >= 5, hibc.utf8.count <= 22, hibc.first?.isLetter == true,
                  hibc.allSatisfy({ $0.isASCII && ($0.isUppercase || $0.isNumber) })
            else {
                throw WorkRecordError(.invalidParams, "\(part.path).hibc '\(hibc)' is not a HIBC labeler code (4 characters, a letter first) and product number, in capitals")
            }
            try await insert(partID, "hibc", hibc, writer)
        }
    }

    private static func insert(_ partID: Int64, _ scheme: String, _ identifier: String, _ writer: AuditedWriter) async throws {
        try await writer.insert(
            "part_identifier", ["part_id": partID, "scheme": scheme, "identifier": identifier, "recorded_at": RecordClock.timestamp()],
            action: "part.identify")
    }
}
