import ArgumentParser
import DeviceIO
import FloorgateCore
import Foundation
import Gateway

/// `floorgate profiles`: the device profiles a technician writes.
struct ProfilesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "profiles",
        abstract: "Work with device profiles (devices/*.toml).",
        subcommands: [ProfilesCheckCommand.self]
    )
}

/// `floorgate profiles check [PATH…]`: load profiles as the gateway would and say what is wrong.
struct ProfilesCheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Check device profiles; name each bad one with file, line, key and what is allowed.",
        discussion: """
            Each PATH is a profile file or a directory of them (*.toml); the default is devices/ \
            where there is one, else the installed profiles (/usr/share/floorgate/devices). \
            Every good profile is listed with its kind, protocol and transport; every problem is \
            printed as FILE:LINE: key 'KEY': what is wrong and what is allowed. Exits 0 when all \
            profiles are good, 2 when one is not (bad configuration).

            Examples:
              floorgate profiles check
              floorgate profiles check devices/sylvac-opto-rs232.toml
              floorgate profiles check /etc/floorgate/devices
            """
    )

    @Argument(help: ArgumentHelp("Profile files or directories (default: devices/, else the installed ones).", valueName: "path"))
    var paths: [String] = []

    func run() throws {
        var errors: [ConfigurationError] = []
        var count = 0
        let local = FileManager.default.fileExists(atPath: "devices")
        for path in paths.isEmpty ? [local ? "devices" : DemoCommand.installedProfiles] : paths {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), isDirectory.boolValue {
                let loaded = ProfileLoader.loadDirectory(path)
                loaded.profiles.forEach { print(Self.summary($0)) }
                count += loaded.profiles.count
                errors += loaded.errors
            } else {
                do {
                    print(Self.summary(try ProfileLoader.load(file: path)))
                    count += 1
                } catch {
                    errors.append(error)
                }
            }
        }
        for error in errors {
            FileHandle.standardError.write(Data((error.description + "\n").utf8))
        }
        print("\(count) profile\(count == 1 ? "" : "s") good, \(errors.count) refused")
        if !errors.isEmpty { throw ExitCode(2) }
    }

    static func summary(_ profile: DeviceProfile) -> String {
        let transport: String
        switch profile.transport {
        case .serial(let settings): transport = "serial " + settings.summary
        case .hidraw(let capture): transport = "hidraw" + (capture ? " (captured)" : "")
        case .usb(let settings): transport = "usb " + settings.summary
        case .tcp(let port): transport = "tcp port \(port)"
        }
        return "ok  \(profile.name): \(profile.kind.rawValue), \(profile.protocolID) over \(transport)"
            + (profile.unit.map { ", unit \($0.code)" } ?? "") + (profile.poll.map { _ in ", polled" } ?? "")
    }
}
