import ArgumentParser
import DeviceProtocols
import FloorgateCore
import Glibc

/// `floorgate decode`: what a device's raw bytes mean, with the same decoder the gateway runs.
struct DecodeCommand: ParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "decode",
        abstract: "Decode a device's raw bytes into events, one JSON object per line.",
        discussion: """
            Reads the bytes a device sent (standard input, or --file) and prints one event per \
            line in the order the bytes produced them: reading, scan, tightening, status, or \
            error (bytes that were not a valid frame and were skipped). Every byte read appears \
            in exactly one event's raw_hex. Output is JSON when standard output is not a \
            terminal or with --json; on a terminal it is a table.

            Examples:
              printf '01A+0012.345\\r' | floorgate decode --protocol mitutoyo --unit mm
              floorgate decode --protocol torque-ascii --file norbar-capture.bin
              floorgate decode --protocol hid-keyboard --layout de --file /dev/hidraw3
              floorgate decode --list

            A frame that ends in CR is printed when the next byte shows whether an LF follows, \
            or at end of input.
            """
    )

    @Option(
        name: .customLong("protocol"),
        help: ArgumentHelp("The device protocol (see --list).", valueName: "id")
    )
    var protocolID: String?

    @Option(help: ArgumentHelp("Read the bytes from this file instead of standard input.", valueName: "path"))
    var file: String?

    @Option(help: ArgumentHelp("The unit for frames that carry none, as a device profile supplies it (mm, in, N.m, lbf.in, …).", valueName: "unit"))
    var unit: String?

    @Option(help: ArgumentHelp("The keyboard layout a keyboard-wedge scanner is set to, for hid-keyboard (us, uk, de, fr, be, es, it, ch, se, no, dk; default us).", valueName: "layout"))
    var layout: String?

    @OptionGroup var output: JSONOutput

    @Flag(help: "List the protocols and exit.")
    var list = false

    /// The protocol and unit the flags name. Checked in `run()` rather than `validate()` so that a
    /// mistyped flag is reported as such first (ArgumentParser reports unknown options only after
    /// validation succeeds).
    private func resolvedOptions() throws -> (entry: ProtocolEntry, options: DecoderOptions, unit: MeasurementUnit?) {
        let validIDs = ProtocolCatalog.ids.joined(separator: ", ")
        guard let protocolID else {
            throw ValidationError("--protocol is required; valid protocol ids: \(validIDs)")
        }
        guard let entry = ProtocolCatalog.entry(id: protocolID) else {
            throw ValidationError("--protocol: unknown protocol '\(protocolID)'; valid protocol ids: \(validIDs)")
        }
        var options = DecoderOptions()
        if let layout {
            guard let known = KeyboardLayout.named(layout) else {
                let names = KeyboardLayout.all.map(\.name).joined(separator: " ")
                throw ValidationError("--layout: unknown keyboard layout '\(layout)'; valid layouts: \(names)")
            }
            options.keyboardLayout = known
        }
        guard let unit else { return (entry, options, nil) }
        guard let known = MeasurementUnit(code: unit) else {
            throw ValidationError("--unit: unknown unit '\(unit)'; valid units: \(MeasurementUnit.allCodes.joined(separator: " "))")
        }
        return (entry, options, known)
    }

    func run() throws {
        let printer = OutputStream(json: output.isWanted)
        if list {
            for entry in ProtocolCatalog.entries {
                printer.writeProtocol(entry)
            }
            printer.flush()
            return
        }
        let (entry, options, suppliedUnit) = try resolvedOptions()
        let input = try InputFile(path: file)
        defer { input.close() }
        var decoder = entry.makeDecoder(options)
        let emit = { (events: [DeviceEvent]) in
            for event in events {
                printer.write(suppliedUnit.map(event.supplyingUnit) ?? event)
            }
            printer.flush()
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = try input.read(into: &buffer)
            if count == 0 { break }
            emit(buffer[..<count].withUnsafeBytes { decoder.feed($0) })
        }
        emit(decoder.finish())
    }
}

/// Where `decode` reads from: a file, or standard input.
struct InputFile {
    let descriptor: Int32
    let name: String

    init(path: String?) throws {
        guard let path else {
            descriptor = STDIN_FILENO
            name = "standard input"
            return
        }
        let opened = Glibc.open(path, O_RDONLY | O_CLOEXEC)
        guard opened >= 0 else {
            throw CommandFailure("cannot open '\(path)': \(String(cString: strerror(errno)))")
        }
        descriptor = opened
        name = "'\(path)'"
    }

    /// Reads up to the buffer's size; 0 at end of input.
    func read(into buffer: inout [UInt8]) throws -> Int {
        while true {
            let count = buffer.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count >= 0 { return count }
            if errno == EINTR { continue }
            throw CommandFailure("cannot read \(name): \(String(cString: strerror(errno)))")
        }
    }

    func close() {
        if descriptor != STDIN_FILENO { _ = Glibc.close(descriptor) }
    }
}

/// Prints events as JSON lines, or as a table for a person at a terminal.
struct OutputStream {
    let json: Bool

    func write(_ event: DeviceEvent) {
        if json {
            print(event.jsonLine)
        } else {
            print(Self.humanLine(event))
        }
    }

    func writeProtocol(_ entry: ProtocolEntry) {
        if json {
            var object = JSONObjectWriter()
            object.add("id", entry.id)
            object.add("summary", entry.summary)
            object.add("example", entry.example)
            print(object.finished())
        } else {
            print(entry.id.padding(toLength: 14) + entry.summary + "  (" + entry.example + ")")
        }
    }

    func flush() {
        fflush(nil)  // all output streams; naming `stdout` is not concurrency-safe
    }

    static func humanLine(_ event: DeviceEvent) -> String {
        let detail: String
        switch event {
        case .reading(let reading, _):
            detail = reading.value.description + " " + (reading.unit?.code ?? "(no unit)")
                + (reading.channel.map { "  channel " + $0 } ?? "")
                + (reading.peak.map { "  peak " + $0.rawValue } ?? "")
        case .tightening(let result, _):
            detail = (result.torque?.description ?? "-") + " " + (result.torqueUnit?.code ?? "(no unit)")
                + "  " + (result.status?.rawValue ?? "")
        case .scan(let scan, _):
            detail = (scan.aim.map { $0 + " " } ?? "") + scan.text.debugDescription
        case .status(let status, _):
            detail = status.state.rawValue + "  " + status.message
        case .error(let failure, _):
            detail = failure.reason
        }
        return event.name.padding(toLength: 11) + detail + "  [" + DeviceEvent.hex(event.raw) + "]"
    }
}

extension String {
    fileprivate func padding(toLength length: Int) -> String {
        count >= length ? self + " " : self + String(repeating: " ", count: length - count)
    }
}
