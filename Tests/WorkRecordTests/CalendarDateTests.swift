import Testing
@testable import WorkRecord

/// The register's dates: exact parsing, day arithmetic across months, leap years and centuries.
@Suite("Calendar dates of the register")
struct CalendarDateTests {
    @Test("only real YYYY-MM-DD dates parse", arguments: ["2026-02-29", "2026-13-01", "2026-00-10", "2026-1-01", "26-01-01", "2026-01-32", "2026/01/01", "", "2026-04-31", "1899-12-31"])
    func refused(_ text: String) {
        #expect(CalendarDate(text) == nil)
    }

    @Test("dates add days and print back as they read", arguments: [
        ("2026-11-02", 180, "2027-05-01"), ("2024-02-28", 1, "2024-02-29"), ("2100-02-28", 1, "2100-03-01"), ("2000-02-28", 1, "2000-02-29"),
        ("2026-12-31", 1, "2027-01-01"), ("1970-01-01", -1, "1969-12-31"), ("2026-03-01", -1, "2026-02-28"), ("2026-12-07", 0, "2026-12-07"),
    ])
    func arithmetic(_ start: String, _ days: Int, _ expected: String) {
        #expect(CalendarDate(start)?.description == start)
        #expect(CalendarDate(start)?.adding(days: Int64(days)).description == expected)
        #expect(CalendarDate(start).flatMap { from in CalendarDate(expected).map { from.days(until: $0) } } == Int64(days))
    }
}
