public import FloorgateCore

/// What ends a scan, as the scanner's suffix setting says (a profile option).
public enum ScanSuffix: String, Sendable, Hashable, CaseIterable {
    /// CR, LF or CR LF (Enter on a keyboard wedge): the default, and what scanners should send.
    case lineEnd = "line-end"
    /// TAB as well (Tab on a keyboard wedge). Only for scanners that cannot be set to CR: a TAB
    /// inside the data then splits the scan.
    case tab
}

/// Protocol `scanner-serial`: a serial or USB-CDC barcode scanner (PROTOCOLS.md §5.1).
///
/// One scan per line. Every byte but NUL is data: GS, RS and EOT of GS1 and ISO/IEC 15434 codes,
/// TAB, spaces and non-ASCII text are kept exactly (text is UTF-8 when valid, else Latin-1). An
/// AIM symbology identifier at the start is split off into `aim`. A configured prefix (a profile
/// option, e.g. an STX the scanner is set to send) is removed when the scan starts with it.
public struct ScannerSerialGrammar: LineGrammar {
    public let maximumLineLength = 4096
    /// Bytes the scanner sends before every scan, removed when present.
    public let prefix: [UInt8]
    /// What ends a scan besides CR and LF.
    public let suffix: ScanSuffix

    public init(prefix: [UInt8] = [], suffix: ScanSuffix = .lineEnd) {
        self.prefix = prefix
        self.suffix = suffix
    }

    public var extraTerminator: UInt8? { suffix == .tab ? ASCII.tab : nil }

    /// Only NUL: line noise on a serial link (a break, a floating line); everything else is data.
    public func isBreaker(_ byte: UInt8) -> Bool { byte == 0 }

    public func parse(_ line: UnsafeRawBufferPointer) -> LineParse {
        var data = line
        if !prefix.isEmpty, line.starts(with: prefix) {
            guard line.count > prefix.count else { return .failure(.emptyFrame) }  // the prefix alone: nothing scanned
            data = UnsafeRawBufferPointer(rebasing: line[prefix.count...])
        }
        return .scan(Scan(splittingAIMFrom: ASCII.text(data)))
    }
}
