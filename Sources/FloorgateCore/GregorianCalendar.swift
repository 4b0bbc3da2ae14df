/// The Gregorian calendar's month lengths: one rule for every date Floorgate reads (GS1 dates,
/// the calibration register's dates).
public enum GregorianCalendar {
    /// How many days `month` (1–12) of `year` has.
    public static func days(inMonth month: Int, year: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }
}
