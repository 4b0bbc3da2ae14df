import DeviceIO
public import FloorgateCore

/// The outbox as the `DurableSink` of a device whose protocol acknowledges results (Open
/// Protocol): each result is normalized and committed before `store` returns.
public struct OutboxSink: DurableSink {
    public let outbox: Outbox
    public let normalizer: Normalizer

    public init(outbox: Outbox, normalizer: Normalizer) {
        self.outbox = outbox
        self.normalizer = normalizer
    }

    public func store(_ result: DeviceResult) async throws -> StoreReceipt {
        let read = ReadEvent(event: result.event, readAt: MonotonicClock.nanoseconds())
        guard var item = normalizer.item(for: read, sourceKey: result.sourceKey, tool: result.tool) else {
            throw OutboxSinkError.notAResult(result.event.jsonLine)
        }
        item.source = result.source  // the client's source, which its gap queries use
        return try await outbox.append(item)
    }
}

/// A status event handed to an ``OutboxSink`` (the Open Protocol client stores results only).
public enum OutboxSinkError: Error, CustomStringConvertible {
    case notAResult(String)

    public var description: String {
        switch self {
        case .notAResult(let line): "not a result, nothing stored: \(line)"
        }
    }
}
