import FloorgateCore

/// The content checks ("linters") the GS1 Barcode Syntax Dictionary names, each implemented
/// after the rule the GS1 Barcode Syntax Engine applies. A linter sees one component's
/// characters, after its character set was checked, and returns why they fail, or nil.
///
/// Two checks are structural only, for want of a list on this machine: `gcppos1`/`gcppos2`
/// (a GS1 Company Prefix needs GS1's prefix-length table: here its first 4 characters must be
/// digits) and `packagetype` (the GS1 PackageTypeCode list: here 1–3 upper-case letters or
/// digits). Country and currency codes come from Debian's iso-codes (ISOCodeLists.swift).
public enum GS1Linter: String, Sendable, CaseIterable {
    case couponcode, couponposoffer, csum, csumalpha, gcppos1, gcppos2, hasnondigit, hh, hhmi, hyphen, iban
    case importeridx, iso3166, iso3166999, iso3166alpha2, iso4217, iso5218, latitude, longitude, mediatype, mi
    case nonzero, nozeroprefix, packagetype, pcenc, pieceoftotal, posinseqslash, ss, winding, yesno, yymmd0
    case yymmdd, yyyymmdd, zero

    /// Why `data` fails this check, in words that follow "AI nn: ", or nil when it passes.
    public func failure(_ data: ArraySlice<UInt8>) -> String? {
        switch self {
        case .csum: Check.mod10(data) ? nil : "bad check digit"
        case .csumalpha: Check.checkCharacterPair(data) ? nil : "bad check character pair"
        case .gcppos1: Check.companyPrefix(data) ? nil : "no GS1 Company Prefix at its start"
        case .gcppos2: data.count >= 2 && Check.companyPrefix(data.dropFirst()) ? nil : "no GS1 Company Prefix after its first digit"
        case .hasnondigit: data.contains(where: { !Check.isDigit($0) }) ? nil : "must contain a character other than a digit"
        case .hh: Check.number(data, length: 2, in: 0...23) ? nil : "impossible hour \(Check.text(data))"
        case .mi, .ss: Check.number(data, length: 2, in: 0...59) ? nil : "impossible \(self == .mi ? "minute" : "second") \(Check.text(data))"
        case .hhmi:
            data.count == 4 && Check.number(data.prefix(2), length: 2, in: 0...23) && Check.number(data.suffix(2), length: 2, in: 0...59)
                ? nil : "impossible time \(Check.text(data))"
        case .hyphen: !data.isEmpty && data.allSatisfy { $0 == UInt8(ascii: "-") } ? nil : "must be '-'"
        case .iban: Check.iban(data) ? nil : "not a valid IBAN"
        case .importeridx: data.count == 1 && data.allSatisfy({ Check.isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") })
            ? nil : "importer index must be one of 0-9 A-Z a-z - _"
        case .iso3166: ISOCodeLists.countryNumeric.contains(Check.text(data)) ? nil : "unknown ISO 3166 country code \(Check.text(data))"
        case .iso3166999: Check.text(data) == "999" || ISOCodeLists.countryNumeric.contains(Check.text(data))
            ? nil : "unknown ISO 3166 country code \(Check.text(data))"
        case .iso3166alpha2: ISOCodeLists.countryAlpha2.contains(Check.text(data)) ? nil : "unknown ISO 3166 country code \(Check.text(data))"
        case .iso4217: ISOCodeLists.currencyNumeric.contains(Check.text(data)) ? nil : "unknown ISO 4217 currency code \(Check.text(data))"
        case .iso5218: Check.oneOf(data, "0129") ? nil : "sex code must be 0, 1, 2 or 9"
        case .latitude: Check.number(data, length: 10, in: 0...1_800_000_000) ? nil : "latitude out of range"
        case .longitude: Check.number(data, length: 10, in: 0...3_600_000_000) ? nil : "longitude out of range"
        case .mediatype: Check.number(data, length: 2, in: 1...10) || Check.number(data, length: 2, in: 80...99)
            ? nil : "unknown media type \(Check.text(data))"
        case .nonzero: data.allSatisfy(Check.isDigit) && data.contains(where: { $0 != UInt8(ascii: "0") }) ? nil : "must not be zero"
        case .nozeroprefix: data.first != UInt8(ascii: "0") && data.allSatisfy(Check.isDigit) ? nil : "must not start with 0"
        case .packagetype: (1...3).contains(data.count) && data.allSatisfy { Check.isDigit($0) || Check.isUppercase($0) }
            ? nil : "not a package type code"
        case .pcenc: Check.percentEncoding(data) ? nil : "bad percent-encoding"
        case .pieceoftotal: Check.pieceOfTotal(data) ? nil : "piece number must be 1 up to the total"
        case .posinseqslash: Check.positionInSequence(data) ? nil : "position must be 1 up to the last, as n/m"
        case .winding: Check.oneOf(data, "019") ? nil : "winding direction must be 0, 1 or 9"
        case .yesno: Check.oneOf(data, "01") ? nil : "must be 0 or 1"
        case .yymmd0: Check.date(data, century: true, allowDayZero: true) ? nil : "impossible date \(Check.text(data))"
        case .yymmdd: Check.date(data, century: true, allowDayZero: false) ? nil : "impossible date \(Check.text(data))"
        case .yyyymmdd: Check.date(data, century: false, allowDayZero: false) ? nil : "impossible date \(Check.text(data))"
        case .zero: !data.isEmpty && data.allSatisfy { $0 == UInt8(ascii: "0") } ? nil : "must be 0"
        case .couponcode: CouponCode.northAmerican(data)
        case .couponposoffer: CouponCode.positiveOffer(data)
        }
    }
}

/// The building blocks of the linters.
enum Check {
    static func isDigit(_ byte: UInt8) -> Bool { byte >= 0x30 && byte <= 0x39 }
    static func isUppercase(_ byte: UInt8) -> Bool { byte >= 0x41 && byte <= 0x5A }
    static func isAlphanumeric(_ byte: UInt8) -> Bool { isDigit(byte) || isUppercase(byte) || (byte >= 0x61 && byte <= 0x7A) }

    static func text(_ data: ArraySlice<UInt8>) -> String { String(decoding: data, as: UTF8.self) }

    /// The character starting at `index` for an error message: quoted when printable, else
    /// `U+` and four hex digits; a multi-byte UTF-8 character is read whole (`'é'`, not its first byte).
    static func describeCharacter(at index: Int, in data: ArraySlice<UInt8>) -> String {
        let scalar = String(decoding: data[index...].prefix(4), as: UTF8.self).unicodeScalars.first ?? "\u{FFFD}"
        if scalar.value >= 0x20 && scalar.value != 0x7F && !(0x80...0x9F).contains(scalar.value) {
            return "'\(Character(scalar))'"
        }
        let hex = String(scalar.value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    /// The digits' value, or nil when `data` is empty or holds anything else.
    static func value(_ data: ArraySlice<UInt8>) -> Int? {
        guard !data.isEmpty, data.count <= 18, data.allSatisfy(isDigit) else { return nil }
        return data.reduce(0) { $0 * 10 + Int($1 - 0x30) }
    }

    static func number(_ data: ArraySlice<UInt8>, length: Int, in range: ClosedRange<Int>) -> Bool {
        data.count == length && value(data).map(range.contains) == true
    }

    static func oneOf(_ data: ArraySlice<UInt8>, _ characters: String) -> Bool {
        data.count == 1 && characters.utf8.contains(data[data.startIndex])
    }

    /// GS1 mod-10 check digit: weights 3, 1, 3, … from the digit next to the check digit leftwards.
    static func mod10(_ data: ArraySlice<UInt8>) -> Bool {
        guard let check = data.last, data.allSatisfy(isDigit) else { return false }
        var sum = 0
        var weight = 3
        for byte in data.dropLast().reversed() {
            sum += Int(byte - 0x30) * weight
            weight = 4 - weight
        }
        return (10 - sum % 10) % 10 == Int(check - 0x30)
    }

    /// The pair of check characters of AIs 8013/8014 (GS1 General Specifications §7.9.5):
    /// each data character's position in CSET 82 times a prime weight (2, 3, 5, … from the
    /// right), summed mod 1021, written as two characters of CSET 32.
    static func checkCharacterPair(_ data: ArraySlice<UInt8>) -> Bool {
        guard data.count >= 2, data.count <= 99 else { return false }
        let checks = data.suffix(2)
        var sum = 0
        for (byte, weight) in zip(data.dropLast(2).reversed(), primes) {
            guard let position = cset82Order[Int(byte)] else { return false }
            sum += position * weight
        }
        sum %= 1021
        return checks.first == cset32[sum >> 5] && checks.last == cset32[sum & 31]
    }

    private static let cset82Order: [Int?] = {
        var order = [Int?](repeating: nil, count: 256)
        for (position, byte) in "!\"%&'()*+,-./0123456789:;<=>?ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz".utf8.enumerated() {
            order[Int(byte)] = position
        }
        return order
    }()

    private static let cset32 = Array("23456789ABCDEFGHJKLMNPQRSTUVWXYZ".utf8)

    /// The first 97 primes: one weight per data character of the longest value.
    private static let primes: [Int] = {
        var primes: [Int] = []
        var candidate = 2
        while primes.count < 97 {
            if primes.allSatisfy({ candidate % $0 != 0 }) { primes.append(candidate) }
            candidate += 1
        }
        return primes
    }()

    /// A GS1 Company Prefix starts the data: at least its shortest length (4), all digits.
    static func companyPrefix(_ data: ArraySlice<UInt8>) -> Bool {
        data.count >= 4 && data.prefix(4).allSatisfy(isDigit)
    }

    /// IBAN (ISO 13616): country, two check digits, up to 30 alphanumerics; mod 97 == 1.
    static func iban(_ data: ArraySlice<UInt8>) -> Bool {
        guard (11...34).contains(data.count), ISOCodeLists.countryAlpha2.contains(text(data.prefix(2))),
              data.allSatisfy({ isDigit($0) || isUppercase($0) })
        else { return false }
        var remainder = 0
        for byte in data.dropFirst(4) + data.prefix(4) {
            let value = isDigit(byte) ? Int(byte - 0x30) : Int(byte - 0x41) + 10
            remainder = (remainder * (value < 10 ? 10 : 100) + value) % 97
        }
        return remainder == 1
    }

    /// `%` must be followed by two hexadecimal digits.
    static func percentEncoding(_ data: ArraySlice<UInt8>) -> Bool {
        var index = data.startIndex
        while index < data.endIndex {
            if data[index] == UInt8(ascii: "%") {
                guard data.endIndex - index >= 3, isHexDigit(data[index + 1]), isHexDigit(data[index + 2])
                else { return false }
                index += 3
            } else {
                index += 1
            }
        }
        return true
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        isDigit(byte) || (byte >= 0x41 && byte <= 0x46) || (byte >= 0x61 && byte <= 0x66)
    }

    /// Two halves of equal length: piece, then total; 1 ≤ piece ≤ total.
    static func pieceOfTotal(_ data: ArraySlice<UInt8>) -> Bool {
        guard !data.isEmpty, data.count % 2 == 0, let piece = value(data.prefix(data.count / 2)),
              let total = value(data.suffix(data.count / 2))
        else { return false }
        return piece >= 1 && piece <= total
    }

    /// `position/last`, both without leading zeros, 1 ≤ position ≤ last.
    static func positionInSequence(_ data: ArraySlice<UInt8>) -> Bool {
        let parts = data.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.first.map { $0 != UInt8(ascii: "0") } == true }),
              let position = value(parts[0]), let last = value(parts[1])
        else { return false }
        return position <= last
    }

    /// YYMMDD (`century`) or YYYYMMDD: a real month and a day that month has; day 00 ("end of
    /// month") only where allowed. Two-digit years read as 2000–2071 and 1972–1999 for 29 February.
    static func date(_ data: ArraySlice<UInt8>, century: Bool, allowDayZero: Bool) -> Bool {
        let yearLength = century ? 2 : 4
        guard data.count == yearLength + 4, var year = value(data.prefix(yearLength)),
              let month = value(data.dropFirst(yearLength).prefix(2)), let day = value(data.suffix(2))
        else { return false }
        if century { year += year <= 71 ? 2000 : 1900 }
        guard (1...12).contains(month) else { return false }
        if day == 0 { return allowDayZero }
        return day <= GregorianCalendar.days(inMonth: month, year: year)
    }
}
