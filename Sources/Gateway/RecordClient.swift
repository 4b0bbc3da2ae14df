public import FloorgateCore
public import Logging
import NIOCore
import NIOExtras
import NIOPosix

/// Something the record announced (`step.changed`, `nc.raised`, `redline.published`,
/// `build.closed`), or `record.connected` when the client (re)connected and subscribed, so a
/// listener knows to read the state again.
public struct RecordEvent: Sendable, Hashable {
    public var method: String
    public var params: JSONValue

    public init(method: String, params: JSONValue) {
        self.method = method
        self.params = params
    }

    /// The name of the event the client adds when it has (re)connected.
    public static let connected = "record.connected"
}

/// Why a call to the record did not give a result.
public enum RecordCallError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The record could not be reached, or the connection dropped before the answer: the call
    /// may be tried again (writes carry their idempotency key, so a retry records once).
    case unreachable(String)
    /// The record answered with a JSON-RPC error (docs/record-protocol.md lists the codes).
    case refused(code: Int64, message: String)

    public var description: String {
        switch self {
        case .unreachable(let reason): "the record is unreachable: \(reason)"
        case .refused(let code, let message): "\(message) (record error \(code))"
        }
    }

    /// Whether trying again later may succeed (the record down, or failing internally).
    public var isTransient: Bool {
        switch self {
        case .unreachable: true
        case .refused(let code, _): code == -32603
        }
    }
}

/// The gateway's connection to the work-order record: JSON-RPC 2.0, one object per line, over
/// the record's Unix socket (docs/record-protocol.md).
///
/// Calls may run concurrently; answers are matched by id. The client connects on the first
/// call and again after the connection drops (a call made while the record is down fails at
/// once with `unreachable`: the caller decides when to retry). On each connection it asks for
/// notifications, which arrive on `events` after a `record.connected` marker.
public actor RecordClient {
    private typealias Connection = NIOAsyncChannelOutboundWriter<ByteBuffer>

    public let socketPath: String
    private let logger: Logger
    private var outbound: Connection?
    private var connecting: Task<Connection, any Error>?
    private var waiting: [Int64: CheckedContinuation<JSONValue, any Error>] = [:]
    private var nextID: Int64 = 1
    private let eventStream: (stream: AsyncStream<RecordEvent>, continuation: AsyncStream<RecordEvent>.Continuation)

    public init(socketPath: String, logger: Logger) {
        self.socketPath = socketPath
        var logger = logger
        logger[metadataKey: "record"] = "\(socketPath)"
        self.logger = logger
        eventStream = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// The record's notifications, in order, across reconnections.
    public nonisolated var events: AsyncStream<RecordEvent> { eventStream.stream }

    /// Calls `method` and returns its result.
    public func call(_ method: String, _ params: JSONValue = [:]) async throws(RecordCallError) -> JSONValue {
        let connection = try await connection()
        let id = nextID
        nextID += 1
        let line = JSONValue.object(["jsonrpc": "2.0", "id": .integer(id), "method": .string(method), "params": params]).text + "\n"
        do {
            return try await withCheckedThrowingContinuation { continuation in
                waiting[id] = continuation
                Task {
                    do {
                        try await connection.write(ByteBuffer(string: line))
                    } catch {
                        self.fail(id, RecordCallError.unreachable("sending \(method) failed: \(error)"))
                    }
                }
            }
        } catch let error as RecordCallError {
            throw error
        } catch {
            throw .unreachable("\(error)")
        }
    }

    /// Connects to a running connection, subscribing to notifications first.
    private func connection() async throws(RecordCallError) -> Connection {
        if let outbound { return outbound }
        let attempt = connecting ?? Task { try await self.connect() }
        connecting = attempt
        do {
            let connection = try await attempt.value
            connecting = nil
            return connection
        } catch {
            connecting = nil
            throw .unreachable("\(socketPath): \(error)")
        }
    }

    private func connect() async throws -> Connection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(LineBasedFrameDecoder()))
                    return try NIOAsyncChannel<ByteBuffer, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let (opened, openedContinuation) = AsyncStream<Connection>.makeStream()
        Task {
            do {
                try await channel.executeThenClose { inbound, outbound in
                    openedContinuation.yield(outbound)
                    openedContinuation.finish()
                    for try await line in inbound {
                        self.received(line)
                    }
                }
            } catch {
                logger.debug("record connection ended", metadata: ["reason": "\(error)"])
            }
            openedContinuation.finish()
            self.disconnected()
        }
        var iterator = opened.makeAsyncIterator()
        guard let writer = await iterator.next() else { throw RecordCallError.unreachable("the connection closed at once") }
        outbound = writer
        logger.info("connected to the record")
        let subscription = nextID
        nextID += 1
        try await writer.write(ByteBuffer(string: JSONValue.object(["jsonrpc": "2.0", "id": .integer(subscription), "method": "subscribe"]).text + "\n"))
        eventStream.continuation.yield(RecordEvent(method: RecordEvent.connected, params: .null))
        return writer
    }

    private func received(_ line: ByteBuffer) {
        let bytes = Array(line.readableBytesView)
        guard let message = try? JSONValue(parsing: bytes) else {
            logger.warning("the record sent a line that is not JSON", metadata: ["line": "\(String(decoding: bytes, as: UTF8.self))"])
            return
        }
        if let id = message["id"]?.integerValue {
            guard let continuation = waiting.removeValue(forKey: id) else { return }  // the subscription's answer
            if let error = message["error"] {
                continuation.resume(throwing: RecordCallError.refused(
                    code: error["code"]?.integerValue ?? -32603, message: error["message"]?.stringValue ?? error.text))
            } else {
                continuation.resume(returning: message["result"] ?? .null)
            }
        } else if let method = message["method"]?.stringValue {
            eventStream.continuation.yield(RecordEvent(method: method, params: message["params"] ?? .null))
        }
    }

    private func fail(_ id: Int64, _ error: RecordCallError) {
        waiting.removeValue(forKey: id)?.resume(throwing: error)
    }

    private func disconnected() {
        if outbound != nil { logger.warning("lost the connection to the record") }
        outbound = nil
        let stranded = waiting
        waiting = [:]
        for continuation in stranded.values {
            continuation.resume(throwing: RecordCallError.unreachable("the connection closed before the answer"))
        }
    }
}
