import CoreMetrics
import DeviceIO
public import FloorgateCore
public import Logging

/// Delivers the outbox to the record in order, for as long as it runs: each pending result is
/// handed to the station and settled with the outcome; while the record is unreachable the
/// drainer waits (by `backoff`) and tries the same result again with the same idempotency key,
/// so the record keeps it once.
///
/// What the writer just committed comes straight from memory (``Outbox/takeCommitted()``); the
/// file is read only for what memory does not hold: at start, after the record was unreachable,
/// and when more was committed than memory keeps. A row is handed on once: the drainer keeps the
/// last row it has dealt with, and rows come in order with no gap, so a gap means "read the file".
public struct OutboxDrainer: Sendable {
    public let outbox: Outbox
    public let station: Station
    public var backoff = Backoff()
    private let logger: Logger

    public init(outbox: Outbox, station: Station, logger: Logger) {
        self.outbox = outbox
        self.station = station
        self.logger = logger
    }

    /// What became of a pass over some results.
    private enum Pass {
        /// Everything given was delivered or settled.
        case done
        /// The record could not be reached: the rest waits in the file.
        case unreachable
    }

    /// Runs until the task is cancelled.
    public func run() async {
        var delay = backoff.initial
        var handled: Int64 = 0  // the last row delivered, settled or passed over
        var signals = outbox.committedSignals.makeAsyncIterator()
        var recordLost = false
        while !Task.isCancelled {
            // What the file holds past `handled`: everything at start, the rest after a failure.
            _ = outbox.takeCommitted()  // in the file too, read below
            switch await deliverFromFile(after: &handled, before: nil) {
            case .unreachable:
                recordLost = true
                try? await Task.sleep(for: delay)
                delay = backoff.next(after: delay)
                continue
            case .done:
                if recordLost { GatewayMetrics.recordReconnects.increment() }
                recordLost = false
                delay = backoff.initial
            }
            // Then each commit's rows, from memory, as long as they follow on.
            live: while await signals.next() != nil {
                guard let committed = outbox.takeCommitted() else { break live }
                let fresh = committed.drop { $0.sequence <= handled }
                guard let first = fresh.first else { continue }
                guard first.sequence == handled + 1 else { break live }
                switch await deliver(Array(fresh)) {
                case .done:
                    handled = fresh.last?.sequence ?? handled
                case .unreachable:
                    recordLost = true
                    break live
                }
            }
        }
    }

    /// Delivers pending results in order until none is left, the record is unreachable, or
    /// `deadline` passes; returns how many are still pending.
    public func deliverPending(before deadline: ContinuousClock.Instant?) async -> Int {
        var handled: Int64 = 0
        _ = await deliverFromFile(after: &handled, before: deadline)
        do {
            return try await outbox.pendingCount()
        } catch {
            logger.error("cannot read the outbox", metadata: ["reason": "\(error)"])
            return 1
        }
    }

    /// Delivers the pending rows after `handled` that the file holds, in order, moving `handled`
    /// on as they are dealt with.
    private func deliverFromFile(after handled: inout Int64, before deadline: ContinuousClock.Instant?) async -> Pass {
        while deadline.map({ ContinuousClock.now < $0 }) ?? true {
            let page: (entries: [Outbox.Entry], readThrough: Int64)
            do {
                page = try await outbox.pending(after: handled, limit: 256)
            } catch {
                logger.error("cannot read the outbox", metadata: ["reason": "\(error)"])
                return .unreachable
            }
            if case .unreachable = await deliver(page.entries) { return .unreachable }
            handled = page.readThrough
            if page.entries.count < 256 { return .done }
        }
        return .done
    }

    /// Hands `entries` (in order) to the station and settles each pending one with its outcome;
    /// rows that are not pending (kept as unbound or skipped when stored) are passed over.
    private func deliver(_ entries: [Outbox.Entry]) async -> Pass {
        let pending = entries.filter { $0.state == .pending }
        guard !pending.isEmpty else { return .done }
        let deliveries = await station.deliver(pending)
        var settled: [(sequence: Int64, state: Outbox.State, outcome: String)] = []
        var unreachable: String?
        for (entry, delivery) in zip(pending, deliveries) {
            switch delivery {
            case .settled(let state, let outcome): settled.append((entry.sequence, state, outcome))
            case .retryLater(let reason): unreachable = reason
            }
        }
        await outbox.settle(settled)
        let now = MonotonicClock.nanoseconds()
        for (entry, outcome) in zip(pending, deliveries) {
            guard case .settled(let state, _) = outcome else { continue }
            // The latency first: a scrape that sees a result counted delivered sees its latency too.
            if let committedAt = entry.committedAt, committedAt <= now { GatewayMetrics.commitToDelivered.recordNanoseconds(Int64(now - committedAt)) }
            (state == .unbound ? GatewayMetrics.unbound : GatewayMetrics.delivered).increment()
        }
        guard let unreachable else { return .done }
        logger.warning("record unreachable; results wait in the outbox", metadata: ["reason": "\(unreachable)"])
        return .unreachable
    }
}
