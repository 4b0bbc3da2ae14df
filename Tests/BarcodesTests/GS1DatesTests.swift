import Barcodes
import Testing

@Suite("GS1 dates (YYMMDD)")
struct GS1DatesTests {
    @Test("the century is the one within 49 years before and 50 after the reading year; day 00 is the month's end", arguments: [
        ("271231", 2026, 2027, 12, 31), ("760101", 2026, 2076, 1, 1), ("770101", 2026, 1977, 1, 1), ("990615", 2051, 2099, 6, 15),
        ("000229", 2026, 2000, 2, 29), ("280200", 2026, 2028, 2, 29), ("270200", 2026, 2027, 2, 28), ("261100", 2026, 2026, 11, 30),
        ("010101", 2080, 2101, 1, 1),
    ])
    func dates(_ text: String, _ reference: Int, _ year: Int, _ month: Int, _ day: Int) {
        let date = GS1Dates.date(yymmdd: text, referenceYear: reference)
        #expect(date?.year == year && date?.month == month && date?.day == day)
    }

    @Test("impossible dates and other text are nil", arguments: ["271301", "270230", "270001", "27123", "2712311", "27-2-1", "ABCDEF", "270431"])
    func refused(_ text: String) {
        #expect(GS1Dates.date(yymmdd: text, referenceYear: 2026) == nil)
    }
}
