import ArgumentParser
import DeviceIO
import DeviceProtocols
import Foundation
import Gateway

/// A serial device played on a pseudo-terminal by `floorgate simulate`.
enum SimulatedDevice {
    enum Kind {
        case openProtocol
        /// A line protocol and the terminator to add to lines that lack one.
        case serial(protocolID: String, lineEnding: [UInt8])
    }

    /// What `name` names: a profile file, a profile in `profilesDirectory`, or a protocol id.
    static func resolve(_ name: String, profilesDirectory: String) throws -> Kind {
        if name == "open-protocol" { return .openProtocol }
        let file = name.hasSuffix(".toml") ? name : (profilesDirectory as NSString).appendingPathComponent(name + ".toml")
        if FileManager.default.fileExists(atPath: file) {
            let profile: DeviceProfile
            do {
                profile = try ProfileLoader.load(file: file)
            } catch {
                throw CommandFailure("\(error)", exitCode: FloorgateExit.badUsage)
            }
            switch profile.transport {
            case .tcp: return .openProtocol
            case .serial: return .serial(protocolID: profile.protocolID, lineEnding: terminator(profile.decoderOptions.lineEnding))
            case .hidraw, .usb: throw ValidationError("simulate: '\(name)' is a \(profile.transport.name) device; only serial devices and open-protocol can be simulated")
            }
        }
        let lineProtocols = ["mitutoyo", "sylvac", "torque-ascii", "scanner-serial", "uwave"]
        guard lineProtocols.contains(name) else {
            throw ValidationError("simulate: '\(name)' is no profile in \(profilesDirectory) and no protocol that can be simulated; valid protocols: \((lineProtocols + ["open-protocol"]).joined(separator: ", "))")
        }
        return .serial(protocolID: name, lineEnding: terminator(.cr))
    }

    private static func terminator(_ ending: LineEnding) -> [UInt8] {
        ending == .lf ? [0x0D, 0x0A] : [0x0D]
    }

    /// The frames of a script file: every line that is not blank or a `#` comment.
    static func scriptLines(_ path: String) throws -> [String] {
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CommandFailure("cannot read script '\(path)'", exitCode: FloorgateExit.badUsage)
        }
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter(isFrame)
        guard !lines.isEmpty else { throw CommandFailure("\(path): no frames in the script", exitCode: FloorgateExit.badUsage) }
        return lines
    }

    private static func isFrame(_ line: String) -> Bool {
        !line.allSatisfy(\.isWhitespace) && !line.hasPrefix("#")
    }

    /// The bytes sent for one line.
    static func frame(_ line: String, lineEnding: [UInt8]) -> [UInt8] {
        var bytes = EscapedText.bytes(line)
        if let last = bytes.last, last == 0x0D || last == 0x0A { return bytes }
        bytes += lineEnding
        return bytes
    }

    /// Plays the device: prints `pty PATH`, sends each line (the script's at `rate` per second,
    /// or standard input's as they come), prints what the other side writes, and keeps the port
    /// open afterwards unless `hangUpAtEnd`.
    static func run(protocolID: String, lineEnding: [UInt8], lines: [String]?, rate: Double, hangUpAtEnd: Bool) async throws {
        let terminal: PseudoTerminal
        do {
            terminal = try PseudoTerminal()
        } catch {
            throw CommandFailure("cannot create a pseudo-terminal: \(error)")
        }
        say("pty \(terminal.path)")
        let echo = Task.detached {
            while !Task.isCancelled {
                let received = terminal.receive(timeoutMilliseconds: 200)
                if !received.isEmpty {
                    say("received \(received.map { String(format: "%02x", $0) }.joined())")
                }
            }
        }
        defer { echo.cancel() }
        func send(_ line: String) throws {
            do {
                try terminal.send(frame(line, lineEnding: lineEnding))
            } catch {
                throw CommandFailure("\(protocolID) on \(terminal.path): \(error)")
            }
        }
        if let lines {
            for line in lines {
                try send(line)
                try await Task.sleep(for: .milliseconds(Int64(1000 / rate)))
            }
        } else {
            while let line = readLine(strippingNewline: true) {
                if isFrame(line) { try send(line) }
            }
        }
        if hangUpAtEnd {
            try await Task.sleep(for: .milliseconds(100))  // let the last frame be read
            terminal.hangUp()
            return
        }
        while true { try await Task.sleep(for: .seconds(3600)) }
    }

    /// Prints a line straight to descriptor 1: no stdio buffer, so no lock shared with the
    /// standard input being read meanwhile.
    private static func say(_ line: String) {
        FileHandle.standardOutput.write(Data((line + "\n").utf8))
    }
}
