import DeviceIO
import DeviceProtocols
import FloorgateCore
import FixtureSupport
import Glibc
import NIOCore
import Testing

@Suite("Serial ports on real pseudo-terminals", .timeLimit(.minutes(1)))
struct SerialPortTests {
    private func attributes(of path: String) throws -> termios {
        let descriptor = open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK)
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var attributes = termios()
        try #require(tcgetattr(descriptor, &attributes) == 0)
        return attributes
    }

    @Test("each profile setting reaches termios: speed, size, parity, stop bits, flow control, raw mode",
          arguments: [
              SerialSettings(baud: 9600, dataBits: 8, parity: .none, stopBits: 1, flowControl: .none),
              SerialSettings(baud: 1200, dataBits: 8, parity: .none, stopBits: 2, flowControl: .none),
              SerialSettings(baud: 4800, dataBits: 7, parity: .even, stopBits: 2, flowControl: .none),
              SerialSettings(baud: 115200, dataBits: 7, parity: .odd, stopBits: 1, flowControl: .rtsCts),
              SerialSettings(baud: 19200, dataBits: 8, parity: .none, stopBits: 1, flowControl: .xonXoff),
          ])
    func settingsApplied(settings: SerialSettings) throws {
        let terminal = try PseudoTerminal()
        let descriptor = try SerialPort.open(path: terminal.path, settings: settings)
        defer { close(descriptor) }
        var applied = try attributes(of: terminal.path)
        #expect(Int(cfgetispeed(&applied)) == Int(Self.speed(settings.baud)))
        #expect((applied.c_cflag & tcflag_t(CSTOPB) != 0) == (settings.stopBits == 2))
        #expect((applied.c_iflag & tcflag_t(IXON) != 0) == (settings.flowControl == .xonXoff))
        #expect(applied.c_lflag & tcflag_t(ICANON | ECHO | ISIG) == 0)
        #expect(applied.c_iflag & tcflag_t(ICRNL | INLCR | IGNCR) == 0)
        // A pty keeps CS8 without parity whatever is asked: size and parity are checked on the
        // attributes Floorgate computes (and on real FTDI ports in the USB tier).
        var computed = applied
        SerialPort.apply(settings, to: &computed)
        #expect(computed.c_cflag & tcflag_t(CSIZE) == tcflag_t(settings.dataBits == 7 ? CS7 : CS8))
        #expect((computed.c_cflag & tcflag_t(PARENB) != 0) == (settings.parity != .none))
        #expect((computed.c_cflag & tcflag_t(PARODD) != 0) == (settings.parity == .odd))
        #expect((computed.c_cflag & tcflag_t(0x8000_0000) != 0) == (settings.flowControl == .rtsCts))
        var exclusive: Int32 = 0
        #expect(ioctl(descriptor, Self.getExclusive, &exclusive) == 0)
        #expect(exclusive == 1)
    }

    /// TIOCGEXCL, `_IOR('T', 0x40, int)`, which Swift does not import.
    private static let getExclusive = UInt(0x8004_5440)

    private static func speed(_ baud: Int) -> speed_t {
        switch baud {
        case 1200: speed_t(B1200)
        case 4800: speed_t(B4800)
        case 9600: speed_t(B9600)
        case 19200: speed_t(B19200)
        default: speed_t(B115200)
        }
    }

    @Test("a hung-up pseudo-terminal keeps its number while it lives: opening its path fails as for an unplugged device, and no new one takes it")
    func hungUpKeepsItsNumber() throws {
        let unplugged = try PseudoTerminal()
        unplugged.hangUp()
        #expect(throws: DeviceOpenError.self) { _ = try SerialPort.open(path: unplugged.path, settings: SerialSettings(baud: 9600, dataBits: 8, parity: .none, stopBits: 1, flowControl: .none)) }
        let others = try (0..<8).map { _ in try PseudoTerminal() }
        #expect(!others.map(\.path).contains(unplugged.path))
    }

    @Test("a missing node and a node that is not a terminal are typed errors naming the path")
    func openErrors() throws {
        let settings = SerialSettings(baud: 9600, dataBits: 8, parity: .none, stopBits: 1, flowControl: .none)
        #expect(throws: DeviceOpenError(path: "/dev/floorgate-test-missing", reason: .missing)) {
            _ = try SerialPort.open(path: "/dev/floorgate-test-missing", settings: settings)
        }
        #expect(throws: DeviceOpenError(path: "/dev/null", reason: .notATerminal)) {
            _ = try SerialPort.open(path: "/dev/null", settings: settings)
        }
        let error = DeviceOpenError(path: "/dev/ttyUSB0", reason: .permissionDenied)
        #expect(error.description.contains("/dev/ttyUSB0"))
    }

    @Test("bytes flow both ways; closing the master ends the link after the cut frame is reported")
    func bytesAndHangUp() async throws {
        let terminal = try PseudoTerminal()
        let settings = SerialSettings(baud: 9600, dataBits: 8, parity: .none, stopBits: 1, flowControl: .none)
        let descriptor = try SerialPort.open(path: terminal.path, settings: settings)
        let recorder = ReadEventRecorder()
        let channel = try await DeviceChannel.open(descriptor: descriptor, decoder: LineDecoder(grammar: MitutoyoGrammar(), lineEnding: .cr)) {
            recorder.handler()
        }
        let before = MonotonicClock.nanoseconds()
        try terminal.send(Array("01A+0012.345\r01A-0000.50".utf8))
        try await channel.write(Array("?\r".utf8))
        #expect(terminal.receive(timeoutMilliseconds: 2000) == Array("?\r".utf8))
        let deadline = ContinuousClock.now + .seconds(10)
        while recorder.all.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        terminal.hangUp()
        #expect(await channel.ended() == nil, "a hang-up is no read failure")
        let events = recorder.all
        try #require(events.count == 2)
        #expect(events[0].event == .reading(Reading(value: try ExactDecimal(parsing: "12.345"), unit: nil, channel: "1"), raw: RawBytes(Array("01A+0012.345\r".utf8))))
        #expect(events[0].readAt >= before)
        #expect(events[1].event == .error(.incompleteFrame, raw: RawBytes(Array("01A-0000.50".utf8))))
    }
}

extension SerialPortTests {
    @Test("a frame whose end is only known after an idle gap arrives without the next byte (auto line ending)")
    func idleGapOnARealPort() async throws {
        let terminal = try PseudoTerminal()
        let settings = SerialSettings(baud: 9600, dataBits: 8, parity: .none, stopBits: 1, flowControl: .none)
        let descriptor = try SerialPort.open(path: terminal.path, settings: settings)
        let recorder = ReadEventRecorder()
        let channel = try await DeviceChannel.open(descriptor: descriptor, decoder: try #require(ProtocolCatalog.entry(id: "scanner-serial")).makeDecoder()) {
            recorder.handler()
        }
        defer { channel.close() }
        try terminal.send(Array("SN-0001\r".utf8))
        let deadline = ContinuousClock.now + .seconds(10)
        while recorder.all.isEmpty && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(2)) }
        let first = recorder.all.first
        #expect(first?.event == .scan(Scan(text: "SN-0001", aim: nil), raw: RawBytes(Array("SN-0001\r".utf8))))
    }
}
