public import FloorgateCore

/// The JSON-RPC 2.0 objects of the record protocol, one per line. Both sides build their lines
/// here, so what goes on the wire is written once.
public enum RecordMessage {
    /// A request the caller wants answered under `id`.
    public static func request(id: Int64, method: RecordMethod, params: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": .integer(id), "method": .string(method.rawValue), "params": params]
    }

    /// A notification the record pushes to a subscriber.
    public static func notification(_ notification: RecordNotification) -> JSONValue {
        ["jsonrpc": "2.0", "method": .string(notification.method), "params": notification.params]
    }

    /// The answer to request `id`: its result.
    public static func result(_ result: JSONValue, id: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "result": result]
    }

    /// The answer to request `id`: a refusal with its code and what to do about it.
    public static func error(_ code: RecordErrorCode, _ message: String, id: JSONValue) -> JSONValue {
        ["jsonrpc": "2.0", "id": id, "error": ["code": .integer(Int64(code.rawValue)), "message": .string(message)]]
    }

    /// `message` as one line of the socket, newline included.
    public static func line(_ message: JSONValue) -> String { message.text + "\n" }
}
