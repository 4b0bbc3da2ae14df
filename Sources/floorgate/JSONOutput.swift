import ArgumentParser
import Glibc

/// `--json`, which every command that prints JSON accepts (INTERFACES.md). A command with a
/// human form (a table) prints it only on a terminal without `--json`; one that prints JSON
/// always takes the flag too, so scripts may pass it to any of them.
struct JSONOutput: ParsableArguments {
    @Flag(help: "Print JSON (what a command prints anyway when its output is not a terminal).")
    var json = false

    /// Whether to print JSON: asked for, or standard output is not a terminal.
    var isWanted: Bool { json || isatty(STDOUT_FILENO) == 0 }
}

/// A command that prints JSON: it takes `--json` (`JSONOutput`).
protocol PrintsJSON {
    var output: JSONOutput { get }
}
