import FloorgateCore

/// The calendar dates of GS1 date element strings (AI 11 production, 17 expiry, …: YYMMDD).
public enum GS1Dates {
    /// The year, month and day of a YYMMDD value, its century chosen as the GS1 General
    /// Specifications (7.12) say: within 49 years before and 50 after `referenceYear` (the
    /// year it is read in). Day 00 is the last day of the month. Nil when the text is not a real
    /// YYMMDD date.
    public static func date(yymmdd text: String, referenceYear: Int) -> (year: Int, month: Int, day: Int)? {
        let digits = Array(text.utf8)
        guard digits.count == 6, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        let value = digits.map { Int($0 - UInt8(ascii: "0")) }
        let yy = value[0] * 10 + value[1], month = value[2] * 10 + value[3], day = value[4] * 10 + value[5]
        guard (1...12).contains(month) else { return nil }
        let current = referenceYear % 100, century = referenceYear - current
        let difference = yy - current
        let year = difference >= 51 ? century - 100 + yy : difference <= -50 ? century + 100 + yy : century + yy
        let length = GregorianCalendar.days(inMonth: month, year: year)
        guard day <= length else { return nil }
        return (year, month, day == 0 ? length : day)
    }
}
