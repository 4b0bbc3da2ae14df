public import DeviceProtocols
public import NIOCore
import NIOPosix

/// An Open Protocol connection as async sequences: framed input, raw bytes out.
public typealias OpenProtocolConnection = NIOAsyncChannel<OpenProtocolFramerOutput, ByteBuffer>

/// Opening Open Protocol TCP channels, controller side and integrator side, with the framer on
/// the inbound path.
public enum OpenProtocolChannels {
    /// Listens for integrators on `host:port` (0: a free port; see `localAddress`).
    public static func listen(host: String, port: Int) async throws -> NIOAsyncChannel<OpenProtocolConnection, Never> {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try framed(channel) }
            }
    }

    /// Connects to a controller at `host:port`.
    public static func connect(host: String, port: Int) async throws -> OpenProtocolConnection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(5))
            .connect(host: host, port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try framed(channel) }
            }
    }

    private static func framed(_ channel: any Channel) throws -> OpenProtocolConnection {
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(OpenProtocolFrameDecoder()))
        return try OpenProtocolConnection(wrappingChannelSynchronously: channel)
    }
}
