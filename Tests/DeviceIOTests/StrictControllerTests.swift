import DeviceIO
import DeviceProtocols
import FloorgateCore
import Logging
import NIOCore
import Synchronization
import Testing

/// The simulator as a strict controller, spoken to with the specification's frames over a real
/// TCP connection and judged on its byte-exact answers (not only against Floorgate's client).
@Suite("The simulator is a strict controller", .timeLimit(.minutes(1)))
struct StrictControllerTests {
    /// A frame written as text, `.` standing for the final NUL.
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8).map { $0 == UInt8(ascii: ".") ? 0 : $0 } }

    /// A conversation with a simulator holding programs 3 and 4.
    final class Conversation: Sendable {
        let panel = OpenProtocolControllerSimulator.Panel()
        let port: Int
        private let task: Task<Void, any Error>

        init() async throws {
            var configuration = OpenProtocolControllerSimulator.Configuration()
            configuration.port = 0
            configuration.interval = .zero
            configuration.panel = panel
            configuration.programs = ["3 1.15 1.30 1.22 30 90 60 cover screws", "4 2.00 2.40 2.20 30 90 60"].compactMap(OpenProtocolControllerSimulator.Program.init(line:))
            let simulator = OpenProtocolControllerSimulator(configuration: configuration, logger: Logger(label: "test"))
            let listening = Mutex<Int?>(nil)
            task = Task { try await simulator.run { port in listening.withLock { $0 = port } } }
            for _ in 0..<500 where listening.withLock({ $0 }) == nil { try await Task.sleep(for: .milliseconds(10)) }
            port = try #require(listening.withLock { $0 })
        }

        deinit { task.cancel() }
    }

    @Test("commands are answered as a controller answers them; the tool tightens only enabled, with the commanded program, identifier and batch")
    func conversation() async throws {
        let simulator = try await Conversation()
        let connection = try await OpenProtocolChannels.connect(host: "127.0.0.1", port: simulator.port)
        try await connection.executeThenClose { inbound, outbound in
            var frames = inbound.makeAsyncIterator()
            func next() async throws -> [UInt8] {
                while let output = try await frames.next() {
                    if case .frame(let frame) = output { return Array(frame.raw) }
                }
                throw CancellationError()
            }
            func send(_ text: String) async throws { try await outbound.write(ByteBuffer(bytes: Self.bytes(text))) }
            func exchange(_ text: String) async throws -> [UInt8] {
                try await send(text)
                return try await next()
            }
            let accepted = { (mid: Int) in OpenProtocolEncoder.commandAccepted(mid: mid) }

            _ = try await exchange("00200001006         .")
            #expect(try await exchange("00200060001         .") == accepted(60))
            // Subscribed to selections: accepted, then the program selected now (none: 000).
            #expect(try await exchange("00200014            .") == accepted(14))
            #expect(try await next() == Self.bytes("00420015001         0002026-01-01:00:00:00."))
            #expect(try await exchange("00200420            .") == accepted(420))
            #expect(try await next() == Self.bytes("00210421001         0."))
            // An unknown program: error 02 (parameter set ID not present), as the specification's example.
            #expect(try await exchange("00230018001         022.") == OpenProtocolEncoder.commandError(mid: 18, errorCode: 2))
            #expect(try await exchange("00230018001         003.") == accepted(18))
            #expect(try await next() == Self.bytes("00420015001         0032026-01-01:00:00:00."))
            #expect(try await exchange("00250019001         00302.") == accepted(19))
            #expect(try await exchange("00250019001         00402.") == OpenProtocolEncoder.commandError(mid: 19, errorCode: 1), "not the selected program")
            #expect(try await exchange("00230020001         003.") == accepted(20))
            #expect(try await exchange("00270050001         SN-0001.") == accepted(50))
            #expect(try await exchange("00240038002         0001.") == OpenProtocolEncoder.commandError(mid: 38, errorCode: 17), "no jobs here")

            // Disabled, a pull of the trigger makes no tightening.
            #expect(try await exchange("00200042            .") == accepted(42))
            simulator.panel.pull()
            try await Task.sleep(for: .milliseconds(200))
            #expect(try await exchange("00200043            .") == accepted(43))
            simulator.panel.pull()
            let first = try #require(try OpenProtocolMessage(Self.frame(try await next())))
            guard case .lastTighteningResult(let result) = first else { Issue.record("not a result: \(first)"); return }
            #expect(result.tighteningID == "0000000001", "the pull while disabled made nothing")
            #expect(result.parameterSet == "003" && result.identifier == "SN-0001")
            #expect(result.batchSize == ExactDecimal(2, scale: 0) && result.batchCounter == ExactDecimal(1, scale: 0) && result.batchStatus == .running)
            try await send("00200062            .")

            // The panel: another program selected at the controller is reported at once.
            simulator.panel.perform(.selectProgram(4))
            #expect(try await next() == Self.bytes("00420015001         0042026-01-01:00:00:00."))
            // The commands-disabled input: reported, then every command is refused with 92.
            simulator.panel.perform(.commandsDisabled(true))
            #expect(try await next() == Self.bytes("00210421001         1."))
            #expect(try await exchange("00200042            .") == OpenProtocolEncoder.commandError(mid: 42, errorCode: 92))
            #expect(try await exchange("00200040            .") == OpenProtocolEncoder.toolData(
                ToolIdentity(serial: "SIM-TOOL-0001", tightenings: 1, calibratedOn: "2026-10-01"), controllerSerial: "SIM0000001"))
        }
    }

    static func frame(_ bytes: [UInt8]) throws -> OpenProtocolFrame {
        var framer = OpenProtocolFramer()
        let outputs = bytes.withUnsafeBytes { framer.feed($0) }
        guard case .frame(let frame)? = outputs.first else { throw CancellationError() }
        return frame
    }
}
