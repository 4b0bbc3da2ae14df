public import FloorgateCore
public import Logging
import NIOCore
import NIOPosix

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

    /// The record's code for a refusal, if it is one the protocol defines.
    public var code: RecordErrorCode? {
        guard case .refused(let code, _) = self else { return nil }
        return RecordErrorCode(rawValue: Int(code))
    }

    /// Whether trying again later may succeed (the record down, or failing internally).
    public var isTransient: Bool {
        switch self {
        case .unreachable: true
        case .refused: code?.isTransient ?? false
        }
    }
}

/// The one client of the work-order record: JSON-RPC 2.0, one object per line, over the record's
/// Unix socket (docs/record-protocol.md). The gateway, the station page, the commands and the
/// tests all reach the record through it.
///
/// Calls may run concurrently; answers are matched by id. `pipeline` sends many calls at once,
/// in order, on the one connection (the record answers them in order and commits them together).
/// The client connects on the first call and again after the connection drops (a call made
/// while the record is down fails at once with `unreachable`: the caller decides when to retry).
/// With `followsNotifications`, each connection asks for the record's notifications, which
/// arrive on `notifications` after a `record.connected` marker.
public actor RecordClient {
    /// Lines for the connection's writer, sent in the order they were queued.
    private typealias Connection = AsyncStream<ByteBuffer>.Continuation

    public let socketPath: String
    /// How long the record may stay silent while calls wait (a long pipeline may take longer, as
    /// long as answers keep coming). A record that took requests and stays silent past it (hung,
    /// or a connection stuck half-open) is taken for unreachable: the calls waiting fail as
    /// `unreachable`, to be tried again with their idempotency keys, and the connection is
    /// closed so the next call makes a new one.
    public let answerTimeout: Duration
    /// Whether each connection asks for the record's notifications; a client that only makes
    /// calls (the station page's, a command's) does not, so nothing piles up unread.
    public let followsNotifications: Bool
    /// The longest answer line read, in bytes; a longer one ends the connection.
    public static let maximumAnswerLength = 1 << 28
    private let logger: Logger
    private var outbound: Connection?
    /// The open connection's channel, to close it when the record stops answering.
    private var channel: (any Channel)?
    private var connecting: Task<Connection, any Error>?
    /// Calls sent and not yet answered: their waiting caller, once it waits.
    private var waiting: [Int64: CheckedContinuation<Result<JSONValue, RecordCallError>, Never>] = [:]
    /// Answers that came before their caller started waiting for them.
    private var early: [Int64: Result<JSONValue, RecordCallError>] = [:]
    private var sent: Set<Int64> = []
    /// Counts connections, so that the end of a replaced one is not taken for the current one's.
    private var generation = 0
    /// Calls' ids start high, so the answer to a raw line (whose id its sender chose, usually a
    /// small number) is never taken for a call's, nor a call's late answer for a raw line's.
    private static let firstCallID: Int64 = 1 << 40
    private var nextID = firstCallID
    /// Answers received so far: progress, for the silence watchdog.
    private var answersReceived = 0
    private let notificationStream: (stream: AsyncStream<RecordNotification>, continuation: AsyncStream<RecordNotification>.Continuation)
    /// Lines that answer no call of this client and are no notification: the answers to raw
    /// lines (`exchange(rawLine:)`), in the order they came.
    private var rawAnswers: [JSONValue] = []
    /// Notifications read by `nextNotification`, from the moment it was first called.
    private var heard: [RecordNotification] = []
    private var hearing: Task<Void, Never>?
    /// Callers of `nextRawAnswer` and `nextNotification` waiting for news (or their deadline).
    private var waitingForNews: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiter = 0

    /// A client of the record at `socketPath`. It connects on the first call. A command's client
    /// logs nothing unless given a logger.
    public init(
        socketPath: String, answerTimeout: Duration = .seconds(10), followsNotifications: Bool = false,
        logger: Logger = Logger(label: "floorgate.record-client", factory: { _ in SwiftLogNoOpLogHandler() })
    ) {
        self.socketPath = socketPath
        self.answerTimeout = answerTimeout
        self.followsNotifications = followsNotifications
        var logger = logger
        logger[metadataKey: "record"] = "\(socketPath)"
        self.logger = logger
        notificationStream = AsyncStream.makeStream(bufferingPolicy: .unbounded)
    }

    /// The record's notifications, in order, across reconnections (one reader at a time).
    public nonisolated var notifications: AsyncStream<RecordNotification> { notificationStream.stream }

    /// Calls `method` and returns its result.
    public func call(_ method: RecordMethod, _ params: JSONValue = [:]) async throws(RecordCallError) -> JSONValue {
        let results = await pipeline([(method, params)])
        return try results[0].get()
    }

    /// Sends all `calls` in order without waiting between them, then returns each one's result.
    public func pipeline(_ calls: [(method: RecordMethod, params: JSONValue)]) async -> [Result<JSONValue, RecordCallError>] {
        let connection: Connection
        do {
            connection = try await self.connection()
        } catch {
            return calls.map { _ in .failure(error) }
        }
        var ids: [Int64] = []
        for call in calls {
            let id = nextID
            nextID += 1
            ids.append(id)
            sent.insert(id)
            let line = RecordMessage.line(RecordMessage.request(id: id, method: call.method, params: call.params))
            if case .terminated = connection.yield(ByteBuffer(string: line)) {
                settle(id, .failure(.unreachable("the connection closed before \(call.method) was sent")))
            }
        }
        let watchdog = Task { [answerTimeout, generation] in  // on this actor
            var seen = answersReceived
            while true {
                try await Task.sleep(for: answerTimeout)
                if answersReceived == seen { break }  // silence for a whole period
                seen = answersReceived
            }
            expire(ids, generation: generation)
        }
        var results: [Result<JSONValue, RecordCallError>] = []
        for id in ids {
            results.append(await answer(id))
        }
        watchdog.cancel()
        return results
    }

    /// Sends `rawLine` as it is (the newline is added) and returns the record's answer to it,
    /// whatever it holds (`nextRawAnswer`). For protocol tests and diagnosis: the caller sends
    /// none that the record leaves unanswered (notifications only).
    public func exchange(rawLine: String) async throws(RecordCallError) -> JSONValue {
        try await send(rawLine: rawLine)
        return try await nextRawAnswer()
    }

    /// The next line the record sends that answers none of this client's calls and is no
    /// notification: the answer to a raw line (`send(rawLine:)`), in the order they were sent.
    public func nextRawAnswer() async throws(RecordCallError) -> JSONValue {
        let deadline = ContinuousClock.now + answerTimeout
        while rawAnswers.isEmpty {
            guard ContinuousClock.now < deadline else { throw .unreachable("no answer to a raw line within \(answerTimeout)") }
            await news(before: deadline)
        }
        return rawAnswers.removeFirst()
    }

    /// The next notification (named `method`, when given, skipping others), or nil when none
    /// comes within `timeout`. From its first call on, this reads `notifications` in their place:
    /// a client uses one or the other.
    public func nextNotification(named method: String? = nil, timeout: Duration = .seconds(10)) async -> RecordNotification? {
        if hearing == nil {
            let stream = notificationStream.stream
            hearing = Task {
                for await notification in stream { self.hear(notification) }
            }
        }
        let deadline = ContinuousClock.now + timeout
        while true {
            while let notification = heard.first {
                heard.removeFirst()
                if method == nil || notification.method == method { return notification }
            }
            guard ContinuousClock.now < deadline else { return nil }
            await news(before: deadline)
        }
    }

    private func hear(_ notification: RecordNotification) {
        heard.append(notification)
        wakeWaiters()
    }

    /// Returns when a raw answer or a notification arrives, or at `deadline`, whichever is first.
    private func news(before deadline: ContinuousClock.Instant) async {
        let waiter = nextWaiter
        nextWaiter += 1
        let timer = Task {
            try? await Task.sleep(until: deadline)
            self.wake(waiter)
        }
        await withCheckedContinuation { continuation in
            waitingForNews[waiter] = continuation
        }
        timer.cancel()
    }

    private func wake(_ waiter: Int) {
        waitingForNews.removeValue(forKey: waiter)?.resume()
    }

    private func wakeWaiters() {
        let waiters = waitingForNews.values
        waitingForNews.removeAll()
        for waiter in waiters { waiter.resume() }
    }

    /// Sends `rawLine` as it is (the newline is added), expecting no answer.
    public func send(rawLine: String) async throws(RecordCallError) {
        if case .terminated = try await connection().yield(ByteBuffer(string: rawLine + "\n")) {
            throw .unreachable("the connection closed before the line was sent")
        }
    }

    /// Closes the connection; calls waiting fail as `unreachable`, a later call connects again.
    public func disconnect() {
        outbound?.finish()
        outbound = nil
        channel?.close(promise: nil)
        disconnected(generation: generation)
    }

    /// The record has not answered `ids` in time: they fail, and connection `generation` (stuck,
    /// since the record answers in order) is closed; its end fails whatever else waited on it.
    private func expire(_ ids: [Int64], generation expired: Int) {
        let late = ids.filter { sent.contains($0) }
        guard !late.isEmpty else { return }
        logger.warning("the record did not answer in time; reconnecting", metadata: ["timeout": "\(answerTimeout)", "calls": "\(late.count)"])
        for id in late {
            settle(id, .failure(.unreachable("no answer within \(answerTimeout)")))
        }
        if expired == generation {
            channel?.close(promise: nil)
            disconnected(generation: expired)
        }
    }

    private func answer(_ id: Int64) async -> Result<JSONValue, RecordCallError> {
        if let answer = early.removeValue(forKey: id) { return answer }
        return await withCheckedContinuation { continuation in
            waiting[id] = continuation
        }
    }

    private func settle(_ id: Int64, _ result: Result<JSONValue, RecordCallError>) {
        guard sent.remove(id) != nil else { return }  // the subscription's answer
        if let continuation = waiting.removeValue(forKey: id) {
            continuation.resume(returning: result)
        } else {
            early[id] = result
        }
    }

    /// The open connection, or a new one (subscribed to notifications first).
    private func connection() async throws(RecordCallError) -> Connection {
        if let outbound { return outbound }
        let attempt = connecting ?? Task { try await self.connect() }
        connecting = attempt
        do {
            let connection = try await attempt.value
            if connecting == attempt { connecting = nil }
            return connection
        } catch {
            if connecting == attempt { connecting = nil }
            throw .unreachable("\(socketPath): \(error)")
        }
    }

    private func connect() async throws -> Connection {
        let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connect(unixDomainSocketPath: socketPath) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        ByteToMessageHandler(RecordLineDecoder(maximumLength: Self.maximumAnswerLength)))
                    return try NIOAsyncChannel<RecordLine, ByteBuffer>(wrappingChannelSynchronously: channel)
                }
            }
        let (lines, connection) = AsyncStream<ByteBuffer>.makeStream()
        generation += 1
        let thisGeneration = generation
        outbound = connection
        self.channel = channel.channel
        Task {
            do {
                try await channel.executeThenClose { inbound, outbound in
                    try await withThrowingTaskGroup(of: Void.self) { group in
                        group.addTask {
                            for await line in lines { try await outbound.write(line) }
                        }
                        for try await line in inbound {
                            guard case .line(let line) = line else {
                                throw RecordCallError.unreachable("the record sent an answer longer than \(Self.maximumAnswerLength) bytes")
                            }
                            self.received(line)
                        }
                        group.cancelAll()
                    }
                }
            } catch {
                logger.debug("record connection ended", metadata: ["reason": "\(error)"])
            }
            self.disconnected(generation: thisGeneration)
        }
        logger.info("connected to the record")
        if followsNotifications {
            connection.yield(ByteBuffer(string: RecordMessage.line(RecordMessage.request(id: -1, method: .subscribe, params: [:]))))
            notificationStream.continuation.yield(RecordNotification(method: RecordNotification.connected, params: .null))
        }
        return connection
    }

    private func received(_ line: ByteBuffer) {
        let bytes = Array(line.readableBytesView)
        guard !bytes.isEmpty else { return }
        guard let message = try? JSONValue(parsing: bytes) else {
            logger.warning("the record sent a line that is not JSON", metadata: ["line": "\(String(decoding: bytes, as: UTF8.self))"])
            return
        }
        if let id = message["id"]?.integerValue, id >= Self.firstCallID || id == -1 {
            // A call's answer, or the subscription's; one whose caller gave up waiting is dropped.
            answersReceived += 1
            if let error = message["error"] {
                let code = error["code"]?.integerValue ?? Int64(RecordErrorCode.internalError.rawValue)
                settle(id, .failure(.refused(code: code, message: error["message"]?.stringValue ?? error.text)))
            } else {
                settle(id, .success(message["result"] ?? .null))
            }
        } else if message["id"] == nil, let method = message["method"]?.stringValue {
            notificationStream.continuation.yield(RecordNotification(method: method, params: message["params"] ?? .null))
        } else {
            rawAnswers.append(message)
            wakeWaiters()
        }
    }

    /// The connection of `generation` ended; an older one's end concerns nobody now.
    private func disconnected(generation ended: Int) {
        guard ended == generation else { return }
        if outbound != nil {
            logger.warning("lost the connection to the record")
            if followsNotifications {
                notificationStream.continuation.yield(RecordNotification(method: RecordNotification.disconnected, params: .null))
            }
        }
        outbound?.finish()
        outbound = nil
        channel = nil
        for id in sent {
            settle(id, .failure(.unreachable("the connection closed before the answer")))
        }
    }
}
