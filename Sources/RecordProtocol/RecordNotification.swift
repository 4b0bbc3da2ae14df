public import FloorgateCore

/// Something the record announced to its subscribers after the write that caused it committed
/// (`step.changed`, `nc.raised`, `redline.published`, `build.closed`), or, from a client,
/// `record.connected` when it (re)connected and subscribed, so a listener knows to read the
/// state again.
public struct RecordNotification: Sendable, Hashable {
    public var method: String
    public var params: JSONValue

    public init(method: String, params: JSONValue) {
        self.method = method
        self.params = params
    }

    /// A build's active step changed (a step completed, or the build opened).
    public static let stepChanged = "step.changed"
    /// A result out of its limits raised a nonconformance.
    public static let ncRaised = "nc.raised"
    /// Engineering published a redline that reaches an open build.
    public static let redlinePublished = "redline.published"
    /// A build closed.
    public static let buildClosed = "build.closed"
    /// Not from the record: the client's marker that it (re)connected and subscribed.
    public static let connected = "record.connected"
    /// Not from the record: the client's marker that its connection was lost (it reconnects).
    public static let disconnected = "record.disconnected"
    /// The record's last notification to a subscriber that stopped reading them: the connection
    /// is closed after it (`reason` says why); a client reconnects and reads the state again.
    public static let subscriptionEnded = "subscription.ended"
}
