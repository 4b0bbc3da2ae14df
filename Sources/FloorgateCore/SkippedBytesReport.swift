/// What a log says about bytes a device sent that were no frame: one line at most per
/// `interval`, with how many bytes were skipped since the last line and the first few of them in
/// hex, never the bytes themselves. A device or a link sending noise fills the outbox (where the
/// raw bytes are kept, 4096 to an event) at the rate it sends, and the log with a line now and then.
public struct SkippedBytesReport: Sendable {
    /// The shortest time between two lines.
    public let interval: Duration
    /// How many leading bytes a line shows.
    public static let shownBytes = 16

    private var lastLine: ContinuousClock.Instant?
    private var bytesSinceLine = 0
    private var eventsSinceLine = 0
    private var firstBytes: [UInt8] = []

    public init(interval: Duration = .seconds(10)) {
        self.interval = interval
    }

    /// Notes `bytes` skipped at `now`; returns the line to log when one is due.
    public mutating func note(_ bytes: some Collection<UInt8>, at now: ContinuousClock.Instant = .now) -> String? {
        if eventsSinceLine == 0 { firstBytes = Array(bytes.prefix(Self.shownBytes)) }
        bytesSinceLine += bytes.count
        eventsSinceLine += 1
        if let lastLine, now - lastLine < interval { return nil }
        let line = "\(bytesSinceLine) bytes in \(eventsSinceLine) run\(eventsSinceLine == 1 ? "" : "s") skipped"
            + (lastLine == nil ? "" : " since the last report") + "; the first begins \(DeviceEvent.hex(firstBytes))"
            + (bytesSinceLine > firstBytes.count ? "…" : "")
        lastLine = now
        bytesSinceLine = 0
        eventsSinceLine = 0
        return line
    }
}
