import FloorgateCore

/// A calendar date as the calibration register writes it (`2026-11-30`): a certificate's
/// calibration date and the date a device falls due. Dates are compared with a result's
/// `measured_at` in UTC, the record's clock.
struct CalendarDate: Sendable, Hashable, Comparable, CustomStringConvertible {
    /// Days since 1970-01-01 (negative before).
    let dayNumber: Int64

    /// Parses `YYYY-MM-DD` exactly (four-digit year, real month and day); nil for anything else.
    init?(_ text: String) {
        let bytes = Array(text.utf8)
        guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"),
              let year = Self.number(bytes[0..<4]), let month = Self.number(bytes[5..<7]), let day = Self.number(bytes[8..<10]),
              year >= 1900, (1...12).contains(month), (1...Self.days(inMonth: month, of: year)).contains(day)
        else { return nil }
        dayNumber = Self.dayNumber(year: year, month: month, day: day)
    }

    /// The date of this year, month and day; nil when there is no such day.
    init?(year: Int, month: Int, day: Int) {
        guard year >= 1900, (1...12).contains(month), (1...Self.days(inMonth: Int64(month), of: Int64(year))).contains(Int64(day)) else { return nil }
        dayNumber = Self.dayNumber(year: Int64(year), month: Int64(month), day: Int64(day))
    }

    /// The last day of a `YYYY-MM` month (a month-only expiry lasts to its end); nil for other text.
    init?(endOfMonth text: String) {
        guard let first = CalendarDate(text + "-01"), let year = Int(text.prefix(4)), let month = Int(text.suffix(2)) else { return nil }
        self = first.adding(days: Self.days(inMonth: Int64(month), of: Int64(year)) - 1)
    }

    /// The UTC date of a record timestamp (`2026-12-07T18:30:00.123Z`); nil when it does not
    /// begin with a date.
    init?(timestamp: String) {
        self.init(String(timestamp.prefix(10)))
    }

    private init(dayNumber: Int64) {
        self.dayNumber = dayNumber
    }

    /// The date `days` later (earlier when negative).
    func adding(days: Int64) -> CalendarDate {
        CalendarDate(dayNumber: dayNumber + days)
    }

    /// Whole days from `self` to `other` (negative when `other` is earlier).
    func days(until other: CalendarDate) -> Int64 {
        other.dayNumber - dayNumber
    }

    /// The calendar year.
    var year: Int { Int(civil.year) }

    var description: String {
        let (year, month, day) = civil
        return "\(year)-\(month < 10 ? "0" : "")\(month)-\(day < 10 ? "0" : "")\(day)"
    }

    /// The year, month and day of the day number (Howard Hinnant's algorithm, proleptic Gregorian).
    private var civil: (year: Int64, month: Int64, day: Int64) {
        let shifted = dayNumber + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let monthIndex = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
        let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }

    static func < (left: CalendarDate, right: CalendarDate) -> Bool { left.dayNumber < right.dayNumber }

    private static func dayNumber(year: Int64, month: Int64, day: Int64) -> Int64 {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    private static func days(inMonth month: Int64, of year: Int64) -> Int64 {
        Int64(GregorianCalendar.days(inMonth: Int(month), year: Int(year)))
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int64? {
        var value: Int64 = 0
        for digit in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) else { return nil }
            value = value * 10 + Int64(digit - UInt8(ascii: "0"))
        }
        return value
    }
}
