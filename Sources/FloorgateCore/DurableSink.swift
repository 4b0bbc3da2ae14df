/// A result a device gave, on its way upstream: what it was, which device gave it, and the key
/// the device itself uses for it (an Open Protocol controller's tightening id), if any.
public struct DeviceResult: Sendable, Hashable {
    /// The device's identity, stable across reconnects (`open-protocol 10.0.4.21:4545`).
    public var source: String
    /// The device's own unique key for this result within `source`, so that a result the device
    /// sends again (after a reconnect, before its acknowledgement) is stored once.
    public var sourceKey: String?
    /// The decoded event, raw bytes included.
    public var event: DeviceEvent
    /// The physical tool that gave a tightening, where its controller described it.
    public var tool: ToolIdentity?

    public init(source: String, sourceKey: String?, event: DeviceEvent, tool: ToolIdentity? = nil) {
        self.source = source
        self.sourceKey = sourceKey
        self.event = event
        self.tool = tool
    }
}

/// Proof that a result is durably stored.
public struct StoreReceipt: Sendable, Hashable {
    /// The result's idempotency key (a UUIDv7), assigned when it was first stored.
    public var id: String
    /// True when the result had been stored before (same source and source key); nothing new
    /// was written.
    public var wasAlreadyStored: Bool

    public init(id: String, wasAlreadyStored: Bool) {
        self.id = id
        self.wasAlreadyStored = wasAlreadyStored
    }
}

/// The one way anything that acknowledges results to a device hands them upstream.
///
/// `store` returns only after the result is committed durably (fsync'd): a device protocol with
/// acknowledgements (Open Protocol MID 0062) acknowledges when, and only when, `store` returns.
public protocol DurableSink: Sendable {
    func store(_ result: DeviceResult) async throws -> StoreReceipt
}

/// What a result store knows about the keys it holds, for devices whose results carry a
/// sequence number (an Open Protocol controller's tightening id).
public protocol ResultHistory: Sendable {
    /// Among the `window` highest numeric keys stored for `source` (a key's leading digits), the
    /// numbers missing between the lowest and the highest, and the highest.
    func numericKeyGaps(source: String, window: Int) async throws -> (missing: [UInt64], highest: UInt64?)
}
