import ArgumentParser
import FloorgateCore
import RecordProtocol

/// `floorgate record diff`: what changed between two revisions of an instruction.
struct RecordDiffCommand: AsyncParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "diff",
        abstract: "What changed between two revisions of an instruction, step by step.",
        discussion: """
            Steps are matched by key and points by name. Titles and texts are compared word by \
            word: removed words show as [-so-], added ones as {+so+}. A point's fields (limits, \
            unit, count, program) show as `lower 1.10 → 1.20`. Steps and points added or removed \
            are named. On a terminal it prints text; with --json, or into a pipe, one JSON object \
            (docs/record-protocol.md, "instruction.get", for the fields compared).

            Examples:
              floorgate record diff --part HX-200 --part-revision C --operation 010 --from A --to B
              floorgate record diff --db record.sqlite --part HX-200 --part-revision C --operation 010 --from A --to B --json
            """
    )

    @OptionGroup var instruction: InstructionSelector
    @Option(help: ArgumentHelp("The earlier revision.", valueName: "revision")) var from: String
    @Option(help: ArgumentHelp("The later revision.", valueName: "revision")) var to: String
    @OptionGroup var target: RecordTarget
    @OptionGroup var output: JSONOutput

    func run() async throws {
        var old = instruction.params, new = instruction.params
        old["revision"] = .string(from)
        new["revision"] = .string(to)
        let difference = InstructionDifference(
            from: try await target.call(.instructionGet, .object(old)), to: try await target.call(.instructionGet, .object(new)))
        if output.isWanted {
            guard case .object(var members) = difference.json else { return }
            members.merge(instruction.params) { kept, _ in kept }
            members["from"] = .string(from)
            members["to"] = .string(to)
            printJSON(.object(members))
        } else {
            print("\(instruction.part) rev \(instruction.partRevision), operation \(instruction.operation): revision \(from) → \(to)")
            difference.lines.forEach { print(TerminalText.escaped($0)) }
        }
    }
}
