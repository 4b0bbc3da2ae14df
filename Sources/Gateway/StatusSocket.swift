public import FloorgateCore
import Foundation
import Glibc
public import Logging
import NIOCore
import NIOPosix
public import RecordProtocol

/// The gateway's status on a Unix socket (`status_socket` in station.toml): a client connects and
/// reads one JSON line, `StationStatus.report`, then the connection ends. `floorgate status` is
/// that client (`fetch`).
public struct StatusSocket: Sendable {
    public let path: String
    let status: StationStatus
    let outbox: Outbox
    let record: RecordClient

    /// `record` is asked whether the record answers at each request.
    public init(path: String, status: StationStatus, outbox: Outbox, record: RecordClient) {
        self.path = path
        self.status = status
        self.outbox = outbox
        self.record = record
    }

    /// Serves until cancelled. A socket that cannot be served (a live gateway on it, a directory
    /// that does not exist) is logged and given up: the gateway goes on without it.
    public func run(logger: Logger) async {
        if LocalSocket.answers(path) {
            logger.warning("another gateway answers on the status socket; this one serves no status", metadata: ["socket": "\(path)"])
            return
        }
        let status = status, outbox = outbox, record = record
        let reply: @Sendable () async -> String = { (await status.report(outbox: outbox, record: record)).text + "\n" }
        let bootstrap = ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture { try channel.pipeline.syncOperations.addHandler(StatusAnswer(reply: reply)) }
            }
        // Created by bind with the process umask: private until its mode and group are set.
        let previousMask = umask(0o177)
        let channel: any Channel
        do {
            channel = try await bootstrap.bind(unixDomainSocketPath: path, cleanupExistingSocketFile: true).get()
            umask(previousMask)
        } catch {
            umask(previousMask)
            logger.warning("cannot serve the status socket; the gateway goes on without it", metadata: ["socket": "\(path)", "reason": "\(error)"])
            return
        }
        if let warning = LocalSocket.restrictAccess(path, serving: "the gateway's status socket") {
            logger.warning("\(warning)", metadata: ["socket": "\(path)"])
        }
        await withTaskCancellationHandler {
            try? await channel.closeFuture.get()
        } onCancel: {
            channel.close(promise: nil)
        }
        unlink(path)
    }

    /// The status a gateway serves on `path`, or why it cannot be had.
    public static func fetch(_ path: String, timeout: Int = 10) throws(StatusUnavailable) -> JSONValue {
        let descriptor = LocalSocket.connect(path)
        guard descriptor >= 0 else { throw StatusUnavailable(path: path, reason: String(cString: strerror(errno))) }
        defer { close(descriptor) }
        var wait = timeval(tv_sec: timeout, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var received: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            if count > 0 { received += buffer[..<count]; continue }
            if count == 0 { break }
            throw StatusUnavailable(path: path, reason: errno == EAGAIN ? "no answer within \(timeout) s" : String(cString: strerror(errno)))
        }
        guard let status = try? JSONValue(parsing: received) else {
            throw StatusUnavailable(path: path, reason: "the answer is not JSON: \(String(decoding: received.prefix(200), as: UTF8.self))")
        }
        return status
    }
}

/// Why no status came from a gateway's status socket.
public struct StatusUnavailable: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String

    public var description: String {
        "no gateway status on \(path) (\(reason)): is the gateway running, and is this its station.toml's status_socket?"
    }
}

/// Answers one status connection: the report, then the end of the connection.
private final class StatusAnswer: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    private let reply: @Sendable () async -> String

    init(reply: @escaping @Sendable () async -> String) {
        self.reply = reply
    }

    func channelActive(context: ChannelHandlerContext) {
        let channel = context.channel, reply = reply
        Task {
            let text = await reply()
            channel.writeAndFlush(channel.allocator.buffer(string: text)).whenComplete { _ in channel.close(promise: nil) }
        }
        context.fireChannelActive()
    }
}
