public import NIOCore

/// What a connection's loop reacts to: something the peer sent, the link closing, or a tick of
/// the clock (for keep-alives, timeouts and timed sends).
public enum LinkInput<Inbound: Sendable>: Sendable {
    case received(Inbound)
    case closed
    case tick
}

/// Runs `body` with one stream merging what `inbound` delivers with a tick every `tickInterval`,
/// so that a connection's whole state lives in one sequential loop, owned by one task.
public func withLinkInputs<Inbound: Sendable, Value: Sendable>(
    from inbound: NIOAsyncChannelInboundStream<Inbound>,
    tickingEvery tickInterval: Duration,
    _ body: (AsyncStream<LinkInput<Inbound>>) async throws -> Value
) async throws -> Value {
    let (inputs, continuation) = AsyncStream<LinkInput<Inbound>>.makeStream()
    return try await withThrowingTaskGroup(of: Void.self) { group in
        group.addTask {
            do {
                for try await value in inbound { continuation.yield(.received(value)) }
            } catch {}
            continuation.yield(.closed)
        }
        group.addTask {
            while !Task.isCancelled {
                try await Task.sleep(for: tickInterval)
                continuation.yield(.tick)
            }
        }
        defer { group.cancelAll() }
        return try await body(inputs)
    }
}
