import ArgumentParser
import FloorgateCore
import Foundation
import Gateway

/// `floorgate status`: one screen for a technician, from the running gateway.
struct StatusCommand: ParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "status",
        abstract: "How the running gateway is doing; exit 1 when something needs attention.",
        discussion: """
            Asks the running gateway on its status socket (station.toml's status_socket; by \
            default gateway.sock beside the record's socket) and shows each device's link and \
            its last reading, how many results wait in the outbox and for how long, whether the \
            record answers, and whether the clock is synchronized; then what needs attention: a \
            device not connected, a result waiting over 60 s, the record not answering, the clock \
            not synchronized.

            Exit codes: 0 all is well; 1 something needs attention, or no gateway answers; 2 bad \
            usage. Monitoring scripts may use --json (one object) and the exit code.

            Examples:
              floorgate status
              floorgate status --config /etc/floorgate/station.toml
              floorgate status --socket /run/floorgate/gateway.sock --json
            """
    )

    @Option(help: ArgumentHelp("The station configuration, for its status_socket.", valueName: "file"))
    var config: String?

    @Option(help: ArgumentHelp("The gateway's status socket (instead of --config).", valueName: "path"))
    var socket: String?

    @OptionGroup var output: JSONOutput

    func run() throws {
        let path: String
        if let socket {
            path = socket
        } else if let config {
            do {
                path = try StationConfiguration.load(file: config).statusSocket
            } catch {
                throw CommandFailure("\(error)", exitCode: FloorgateExit.badUsage)
            }
        } else {
            path = "/run/floorgate/gateway.sock"
        }
        let status: JSONValue
        do {
            status = try StatusSocket.fetch(path)
        } catch {
            throw CommandFailure("\(error)")
        }
        if output.isWanted {
            print(status.text)
        } else {
            print(Self.screen(status))
        }
        if !(status["attention"]?.arrayValue ?? []).isEmpty { throw ExitCode(1) }
    }

    /// The status as a technician reads it.
    static func screen(_ status: JSONValue) -> String {
        let attention = status["attention"]?.arrayValue?.compactMap(\.stringValue) ?? []
        var lines = ["\(status["station"]?.stringValue ?? "?"): " + (attention.isEmpty ? "all is well" : "needs attention")]
        for device in status["devices"]?.arrayValue ?? [] {
            let name = (device["name"]?.stringValue ?? "?").padding(toLength: 14, withPad: " ", startingAt: 0)
            let state = (device["state"]?.stringValue ?? "?").padding(toLength: 11, withPad: " ", startingAt: 0)
            let reading = device["last_reading_seconds"]?.stringValue.map { "last reading \($0) s ago" } ?? "no reading yet"
            lines.append("  \(name)\(state)\(reading)  \(TerminalText.escaped(device["message"]?.stringValue ?? ""))")
        }
        let outbox = status["outbox"]
        let waiting = outbox?["pending"]?.integerValue.map { "\($0) result\($0 == 1 ? "" : "s") waiting" } ?? "cannot be read"
        let oldest = outbox?["oldest_pending_seconds"]?.stringValue.map { ", the oldest for \($0) s" } ?? ""
        lines.append("  outbox        \(waiting)\(oldest)")
        let record = status["record"]
        lines.append("  record        " + (record?["reachable"] == .bool(true) ? "answers" : "does not answer") + " on \(record?["socket"]?.stringValue ?? "?")")
        lines.append("  clock         \(status["clock"]?["state"]?.stringValue ?? "?")")
        lines += attention.map { "  ! \(TerminalText.escaped($0))" }
        return lines.joined(separator: "\n")
    }
}
