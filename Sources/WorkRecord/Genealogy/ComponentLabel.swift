import Barcodes
import FloorgateCore
import RecordProtocol

/// What a component's scanned label says: whose product it is (its GTIN or HIBC product), its
/// lot, serial and expiry. Reading it is pure; the record then checks it against the point's
/// part and its own rows (`ComponentRegister`).
struct ComponentLabel: Sendable, Equatable {
    /// How the label names the product.
    enum Product: Sendable, Equatable {
        /// GS1 AI 01.
        case gtin(String)
        /// HIBC labeler code and product number, together (`A123PCN1`).
        case hibc(String)
        /// A plain-text label names no product: the point's part is taken as the label's.
        case unnamed

        var scheme: String? {
            switch self {
            case .gtin: "gtin"
            case .hibc: "hibc"
            case .unnamed: nil
            }
        }

        var identifier: String? {
            switch self {
            case .gtin(let gtin): gtin
            case .hibc(let product): product
            case .unnamed: nil
            }
        }
    }

    var product: Product
    var lot: String?
    var serial: String?
    var expiry: CalendarDate?

    /// Reads `text` (with the scanner's AIM identifier, if it sent one) as a label for
    /// `component`: GS1 (AI 01 with 10, 21, 17), HIBC, or plain text matching the point's
    /// pattern. Two-digit GS1 years are read around `referenceYear`.
    init(scanned text: String, aim: String?, for component: InstructionContent.Point.Component, referenceYear: Int) throws(WorkRecordError) {
        if let pattern = component.pattern, (try? Regex(pattern).wholeMatch(in: text)) != nil {
            product = .unnamed
            lot = component.control == .lot ? text : nil
            serial = component.control == .serial ? text : nil
            expiry = nil
            return
        }
        let content = ScannedContent(parsing: (aim ?? "") + text, assumeGS1: aim == nil)
        let fields = content.fields
        switch content.scheme {
        case .gs1,
             .iso15434 where !fields.gs1.isEmpty:
            guard content.isValid else {
                throw WorkRecordError(.componentRefused, "the label's GS1 data is not valid: \(content.errors.joined(separator: "; "))")
            }
            guard let gtin = fields.gs1["01"] else { throw WorkRecordError(.componentRefused, "the label carries no GTIN (AI 01)") }
            product = .gtin(gtin)
            lot = fields.gs1["10"]
            serial = fields.gs1["21"]
            expiry = try fields.gs1["17"].map { yymmdd throws(WorkRecordError) in
                guard let date = GS1Dates.date(yymmdd: yymmdd, referenceYear: referenceYear),
                      let calendar = CalendarDate(year: date.year, month: date.month, day: date.day)
                else { throw WorkRecordError(.componentRefused, "the label's expiry (AI 17) \(yymmdd) is not a date") }
                return calendar
            }
        case .hibc:
            guard content.isValid else {
                throw WorkRecordError(.componentRefused, "the label's HIBC data is not valid: \(content.errors.joined(separator: "; "))")
            }
            guard let labeler = fields.hibc["labeler"], let code = fields.hibc["product"] else {
                throw WorkRecordError(.componentRefused, "the HIBC label carries no primary data (labeler and product)")
            }
            product = .hibc(labeler + code)
            lot = fields.hibc["lot"]
            serial = fields.hibc["serial"]
            // A month-only expiry lasts to the month's end.
            expiry = fields.hibc["expiry"].flatMap { CalendarDate($0) ?? CalendarDate(endOfMonth: $0) }
        default:
            throw WorkRecordError(
                .componentRefused,
                "the label '\(text)' is plain text: the point reads GS1 or HIBC labels\(component.pattern.map { ", or text matching \($0)" } ?? "")")
        }
        switch component.control {
        case .lot where lot == nil:
            throw WorkRecordError(.componentRefused, "the label carries no lot (GS1 AI 10), and part \(component.part) is lot-controlled")
        case .serial where serial == nil:
            throw WorkRecordError(.componentRefused, "the label carries no serial (GS1 AI 21), and part \(component.part) is serial-controlled")
        default:
            break
        }
    }
}
