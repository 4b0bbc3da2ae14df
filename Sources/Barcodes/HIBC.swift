import FloorgateCore

/// The data of a HIBC LIC code (Health Industry Bar Code, ANSI/HIBC 2): the primary part
/// (labeler, product, unit of measure) and/or the secondary part (lot, serial, expiry, quantity).
public struct HIBCData: Sendable, Hashable {
    /// Labeler identification code (LIC), 4 characters, the first a letter.
    public var labeler: String?
    /// Product or catalog number (PCN), 1–18 characters.
    public var product: String?
    /// Unit of measure digit: 0 unit of use, 1–8 packaging levels, 9 variable quantity.
    public var unit: String?
    public var lot: String?
    public var serial: String?
    /// Expiry as an ISO date: `2026-12-31`, or `2026-12` for month-only formats.
    public var expiry: String?
    /// The hour of expiry (`14`), where the code gives one (`$$4`, `$$6`).
    public var expiryHour: String?
    /// The quantity of a `$$8`/`$$9` secondary.
    public var quantity: String?
    /// A standalone secondary's link character (the primary's check character).
    public var link: String?
}

/// Parses HIBC LIC primary, secondary and concatenated codes and checks their mod-43 check
/// character (PROTOCOLS.md §6.3).
public enum HIBC {
    /// The 43 characters of the check-character arithmetic, in value order (Code 39's set).
    static let characters = Array("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ-. $/+%".utf8)

    /// The parsed data (as far as it goes) and the problems found.
    public static func parse(_ text: String) -> (data: HIBCData, errors: [String]) {
        let bytes = Array(text.utf8)
        var data = HIBCData()
        var errors: [String] = []
        guard bytes.count >= 3, bytes[0] == UInt8(ascii: "+") else {
            return (data, ["HIBC: data must start with '+'"])
        }
        if let bad = bytes.firstIndex(where: { !characters.contains($0) }) {
            errors.append("HIBC: character \(Check.describeCharacter(at: bad, in: bytes[...])) not allowed")
        } else if checkCharacter(of: bytes.dropLast()) != bytes.last {
            errors.append("HIBC: bad check character")
        }
        let body = bytes[1..<(bytes.count - 1)]  // without '+' and the check character
        if let first = body.first, Check.isUppercase(first) {
            let parts = body.split(separator: UInt8(ascii: "/"), maxSplits: 1, omittingEmptySubsequences: false)
            errors += parsePrimary(parts[0], into: &data)
            if parts.count == 2 {
                errors += parseSecondary(parts[1], into: &data)
            }
        } else {
            // A standalone secondary ends with the link character.
            guard !body.isEmpty else { return (data, errors + ["HIBC: secondary data missing"]) }
            data.link = Check.text(body.suffix(1))
            errors += parseSecondary(body.dropLast(), into: &data)
        }
        return (data, errors)
    }

    /// The mod-43 check character over `bytes` (every character from the leading `+`).
    static func checkCharacter(of bytes: ArraySlice<UInt8>) -> UInt8? {
        var sum = 0
        for byte in bytes {
            guard let value = characters.firstIndex(of: byte) else { return nil }
            sum += value
        }
        return characters[sum % 43]
    }

    /// LIC (4) + PCN (1–18) + unit of measure (1 digit).
    private static func parsePrimary(_ primary: ArraySlice<UInt8>, into data: inout HIBCData) -> [String] {
        guard primary.count >= 6, let unit = primary.last, Check.isDigit(unit) else {
            return ["HIBC: primary data must be a 4-character labeler code, a product number and a unit-of-measure digit"]
        }
        data.labeler = Check.text(primary.prefix(4))
        data.product = Check.text(primary.dropFirst(4).dropLast())
        data.unit = Check.text(primary.suffix(1))
        return primary.count - 5 > 18 ? ["HIBC: product number longer than 18 characters"] : []
    }

    /// Secondary data: `$$` + date format (and quantity) + lot, `$$+` the same with a serial,
    /// `$+` serial, `$` lot, or the old form of a 5-digit Julian date + lot.
    private static func parseSecondary(_ secondary: ArraySlice<UInt8>, into data: inout HIBCData) -> [String] {
        var rest = secondary
        if rest.starts(with: "$$".utf8) {
            rest = rest.dropFirst(2)
            let isSerial = rest.first == UInt8(ascii: "+")
            if isSerial { rest = rest.dropFirst() }
            var errors: [String] = []
            if let flag = rest.first, flag == UInt8(ascii: "8") || flag == UInt8(ascii: "9") {
                let length = flag == UInt8(ascii: "8") ? 2 : 5
                let quantity = rest.dropFirst().prefix(length)
                guard quantity.count == length, quantity.allSatisfy(Check.isDigit) else {
                    return ["HIBC: quantity after $$\(flag == UInt8(ascii: "8") ? "8" : "9") must be \(length) digits"]
                }
                data.quantity = Check.text(quantity)
                rest = rest.dropFirst(1 + length)
            }
            errors += parseDate(&rest, into: &data)
            if isSerial { data.serial = Check.text(rest) } else { data.lot = Check.text(rest) }
            return errors
        }
        if rest.starts(with: "$+".utf8) {
            data.serial = Check.text(rest.dropFirst(2))
        } else if rest.first == UInt8(ascii: "$") {
            data.lot = Check.text(rest.dropFirst())
        } else if rest.count >= 5, rest.prefix(5).allSatisfy(Check.isDigit) {
            var julian = rest.prefix(5)
            rest = rest.dropFirst(5)
            let errors = julianDate(&julian, withHour: false, into: &data)
            data.lot = Check.text(rest)
            return errors
        } else {
            return ["HIBC: secondary data in an unknown format"]
        }
        return []
    }

    /// The date after `$$`: flag 0/1 MMYY (the flag is the month's first digit), 2 MMDDYY,
    /// 3 YYMMDD, 4 YYMMDDHH, 5 YYJJJ, 6 YYJJJHH, 7 no date.
    private static func parseDate(_ rest: inout ArraySlice<UInt8>, into data: inout HIBCData) -> [String] {
        guard let flag = rest.first, Check.isDigit(flag) else { return [] }
        func take(_ count: Int) -> ArraySlice<UInt8>? {
            guard rest.count >= count, rest.prefix(count).allSatisfy(Check.isDigit) else { return nil }
            defer { rest = rest.dropFirst(count) }
            return rest.prefix(count)
        }
        func field(_ slice: ArraySlice<UInt8>, _ offset: Int) -> String { Check.text(slice.dropFirst(offset).prefix(2)) }
        switch flag {
        case UInt8(ascii: "0"), UInt8(ascii: "1"):
            guard let date = take(4) else { return ["HIBC: expiry date incomplete"] }
            return setExpiry(year: field(date, 2), month: field(date, 0), day: nil, hour: nil, into: &data)
        case UInt8(ascii: "2"):
            rest = rest.dropFirst()
            guard let date = take(6) else { return ["HIBC: expiry date incomplete"] }
            return setExpiry(year: field(date, 4), month: field(date, 0), day: field(date, 2), hour: nil, into: &data)
        case UInt8(ascii: "3"), UInt8(ascii: "4"):
            rest = rest.dropFirst()
            let withHour = flag == UInt8(ascii: "4")
            guard let date = take(withHour ? 8 : 6) else { return ["HIBC: expiry date incomplete"] }
            return setExpiry(year: field(date, 0), month: field(date, 2), day: field(date, 4), hour: withHour ? field(date, 6) : nil, into: &data)
        case UInt8(ascii: "5"), UInt8(ascii: "6"):
            rest = rest.dropFirst()
            let withHour = flag == UInt8(ascii: "6")
            guard var date = take(withHour ? 7 : 5) else { return ["HIBC: expiry date incomplete"] }
            return julianDate(&date, withHour: withHour, into: &data)
        case UInt8(ascii: "7"):
            rest = rest.dropFirst()
            return []
        default:
            return []
        }
    }

    /// YYJJJ[HH]: year and day of the year.
    private static func julianDate(_ date: inout ArraySlice<UInt8>, withHour: Bool, into data: inout HIBCData) -> [String] {
        guard let year = Check.value(date.prefix(2)), let dayOfYear = Check.value(date.dropFirst(2).prefix(3)) else {
            return ["HIBC: expiry date incomplete"]
        }
        let fullYear = 2000 + year
        var remaining = dayOfYear
        var month = 1
        while month <= 12, remaining > GregorianCalendar.days(inMonth: month, year: fullYear) {
            remaining -= GregorianCalendar.days(inMonth: month, year: fullYear)
            month += 1
        }
        guard dayOfYear >= 1, month <= 12 else { return ["HIBC: impossible date \(Check.text(date))"] }
        let hour = withHour ? Check.text(date.suffix(2)) : nil
        return setExpiry(year: twoDigits(year), month: twoDigits(month), day: twoDigits(remaining), hour: hour, into: &data)
    }

    private static func setExpiry(year: String, month: String, day: String?, hour: String?, into data: inout HIBCData) -> [String] {
        let yymmdd = Array((year + month + (day ?? "01")).utf8)
        guard Check.date(yymmdd[...], century: true, allowDayZero: false), hour.map({ Check.number(Array($0.utf8)[...], length: 2, in: 0...23) }) ?? true else {
            return ["HIBC: impossible date \(year + month + (day ?? ""))\(hour ?? "")"]
        }
        data.expiry = "20\(year)-\(month)" + (day.map { "-" + $0 } ?? "")
        data.expiryHour = hour
        return []
    }

    private static func twoDigits(_ value: Int) -> String { value < 10 ? "0\(value)" : "\(value)" }
}
