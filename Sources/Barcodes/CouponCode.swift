/// The North American coupon fields of AIs 8110 and 8112 (GS1 US coupon guideline), read field by
/// field as the GS1 Barcode Syntax Engine reads them. All digits; a length indicator ("VLI") is one
/// digit giving the length of the field after it; data left over at the end is an error.
enum CouponCode {
    /// AI 8110: why the coupon code fails, or nil.
    static func northAmerican(_ data: ArraySlice<UInt8>) -> String? {
        var reader = FieldReader(data)
        guard data.allSatisfy(Check.isDigit) else { return "coupon code must be digits" }
        guard reader.prefixedField(indicator: 0...6, extra: 6, check: Check.companyPrefix),
              reader.digits(6),                               // offer code
              reader.prefixedField(indicator: 1...5, extra: 0),  // save value
              reader.purchaseRequirement()                    // first purchase requirement
        else { return "coupon code ends early or holds an impossible field" }
        var lastOptionalField = 0
        var expiry: ArraySlice<UInt8>?
        while let indicator = reader.digit() {
            guard indicator > lastOptionalField else { return "coupon code holds data out of order" }
            lastOptionalField = indicator
            let ok: Bool
            switch indicator {
            case 1: ok = reader.digit(in: 0...3) && reader.purchaseRequirement() && reader.companyPrefixOrNone()
            case 2: ok = reader.purchaseRequirement() && reader.companyPrefixOrNone()
            case 3:
                expiry = reader.take(6)
                ok = expiry.map { Check.date($0, century: true, allowDayZero: false) } == true
            case 4:
                // The start date may not be after the expiry date (compared as YYMMDD text).
                let start = reader.take(6)
                ok = start.map { start in
                    Check.date(start, century: true, allowDayZero: false) && expiry.map { !$0.lexicographicallyPrecedes(start) } ?? true
                } == true
            case 5: ok = reader.prefixedField(indicator: 0...9, extra: 6)
            case 6: ok = reader.prefixedField(indicator: 1...7, extra: 6, check: Check.companyPrefix)
            case 9: ok = reader.miscellaneous()
            default: return "coupon code holds an unknown field \(indicator)"
            }
            guard ok else { return "coupon code field \(indicator) is incomplete or impossible" }
        }
        return nil
    }

    /// AI 8112: why the paperless coupon code fails, or nil.
    static func positiveOffer(_ data: ArraySlice<UInt8>) -> String? {
        var reader = FieldReader(data)
        guard data.allSatisfy(Check.isDigit) else { return "coupon code must be digits" }
        guard reader.digit(in: 0...1),
              reader.prefixedField(indicator: 0...6, extra: 6),  // funder id
              reader.digits(6),                               // offer code
              reader.prefixedField(indicator: 0...9, extra: 6),  // serial number
              reader.isAtEnd
        else { return "coupon code ends early, holds an impossible field or has data left over" }
        return nil
    }
}

/// Reads a coupon code's fields from the front.
private struct FieldReader {
    private var rest: ArraySlice<UInt8>

    init(_ data: ArraySlice<UInt8>) { rest = data }

    var isAtEnd: Bool { rest.isEmpty }

    mutating func take(_ count: Int) -> ArraySlice<UInt8>? {
        guard rest.count >= count else { return nil }
        defer { rest = rest.dropFirst(count) }
        return rest.prefix(count)
    }

    mutating func digit() -> Int? {
        take(1).flatMap(Check.value)
    }

    mutating func digit(in range: ClosedRange<Int>) -> Bool {
        digit().map(range.contains) == true
    }

    mutating func digits(_ count: Int) -> Bool { take(count) != nil }

    /// A length digit in `indicator`, then that many plus `extra` digits, which must pass `check`.
    mutating func prefixedField(indicator: ClosedRange<Int>, extra: Int, check: (ArraySlice<UInt8>) -> Bool = { _ in true }) -> Bool {
        guard let length = digit(), indicator.contains(length), let field = take(length + extra) else { return false }
        return check(field)
    }

    /// Purchase requirement (length 1–5 + digits), its code (0–4 or 9) and family code (3 digits).
    mutating func purchaseRequirement() -> Bool {
        guard prefixedField(indicator: 1...5, extra: 0), let code = digit(), (0...4).contains(code) || code == 9 else { return false }
        return digits(3)
    }

    /// A company prefix with its length digit (0–6), or 9 for "none".
    mutating func companyPrefixOrNone() -> Bool {
        guard let length = digit() else { return false }
        if length == 9 { return true }
        guard length <= 6, let field = take(length + 6) else { return false }
        return Check.companyPrefix(field)
    }

    /// Field 9: save-value code, applies-to item, store-coupon flag, don't-multiply flag.
    mutating func miscellaneous() -> Bool {
        guard let saveValueCode = digit(), [0, 1, 2, 5, 6].contains(saveValueCode) else { return false }
        return digit(in: 0...2) && digit() != nil && digit(in: 0...1)
    }
}
