import Barcodes
import FloorgateCore
import RecordProtocol

/// A unit's Unique Device Identification as the record assembles it: the device identifier
/// (UDI-DI, its part's GTIN) and the production identifiers (UDI-PI) from the build: date of
/// manufacture (AI 11, the day its first operation was opened, UTC), lot (AI 10, its work order)
/// and serial (AI 21).
struct UnitUDI: Sendable {
    var gtin: String
    /// In label order: 01, 11, 10, 21.
    var elements: [(ai: String, value: String)]

    /// The human-readable form printed under the symbol: `(01)09506000134352(11)261207(10)WO-1001(21)SN-0001`.
    var text: String { elements.map { "(\($0.ai))\($0.value)" }.joined() }

    var json: JSONValue {
        [
            "di": .string(gtin), "text": .string(text),
            "pi": .object(Dictionary(elements.dropFirst().map { ($0.ai, JSONValue.string($0.value)) }, uniquingKeysWith: { first, _ in first })),
        ]
    }

    /// The UDI of `serial`, or nil when its part has no GTIN or it has no build yet.
    static func load(serial: String, _ transaction: any RecordTransaction) async throws -> UnitUDI? {
        guard let unit = try await transaction.row(
            """
            SELECT part_identifier.identifier, work_order.number FROM unit_serial JOIN work_order ON work_order.id = unit_serial.work_order_id
            JOIN part_identifier ON part_identifier.part_id = work_order.part_id AND part_identifier.scheme = 'gtin'
            WHERE unit_serial.serial = ?
            """, serial),
            let opened = try await transaction.row(
                "SELECT MIN(build.opened_at) AS opened FROM build JOIN unit_serial ON unit_serial.id = build.serial_id WHERE unit_serial.serial = ?", serial
            )?["opened"] as String?
        else { return nil }
        // YYMMDD of the first operation's date.
        let date = opened.prefix(10).filter { $0 != "-" }
        return UnitUDI(
            gtin: unit["identifier"],
            elements: [("01", unit["identifier"]), ("11", String(date.dropFirst(2))), ("10", unit["number"]), ("21", serial)])
    }

    /// The verdict on a scanned label: pass when it is valid GS1 holding exactly this UDI's
    /// elements; otherwise invalid, with what differs.
    func verdict(scanned text: String, aim: String?) -> Verdict {
        let content = ScannedContent(parsing: (aim ?? "") + text, assumeGS1: aim == nil)
        let scanned = content.gs1Elements.map { (ai: $0.ai, value: $0.value) }
        guard content.isValid, !scanned.isEmpty else {
            return .invalid(reason: "the label is not valid GS1\(content.errors.isEmpty ? "" : ": " + content.errors.joined(separator: "; ")); the unit's UDI is \(self.text)")
        }
        var differences: [String] = []
        for (ai, value) in elements {
            let found = scanned.filter { $0.ai == ai }.map(\.value)
            if found.isEmpty {
                differences.append("AI \(ai) missing (the unit's is \(value))")
            } else if found != [value] {
                differences.append("AI \(ai) is \(found.joined(separator: ", ")), the unit's is \(value)")
            }
        }
        for ai in Set(scanned.map(\.ai)).subtracting(elements.map(\.ai)).sorted() {
            differences.append("AI \(ai) is not in the unit's UDI")
        }
        return differences.isEmpty ? .pass : .invalid(reason: "label does not match the unit's UDI \(self.text): \(differences.joined(separator: "; "))")
    }
}
