import ArgumentParser
import Gateway

/// `--log-format`, taken by every command that runs for a while and logs (gateway, record
/// serve, collect, simulate).
struct LogOptions: ParsableArguments {
    @Option(
        help: ArgumentHelp(
            "How log lines are written: auto (journal entries under systemd, text otherwise), text, journal or json (one object a line on standard error).",
            valueName: "form"),
        transform: { text in
            guard let format = LogFormat(rawValue: text) else {
                throw ValidationError("--log-format '\(text)' is not one of: " + LogFormat.allCases.map(\.rawValue).joined(separator: ", "))
            }
            return format
        })
    var logFormat: LogFormat = .auto

    /// Makes the process's log use the chosen form; the first thing a command does.
    func apply() { LogOutput.standard.use(logFormat) }
}
