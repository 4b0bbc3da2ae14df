import ArgumentParser
import Barcodes

/// `floorgate barcode`: what scanned content means.
struct BarcodeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "barcode",
        abstract: "Work with scanned barcode content.",
        subcommands: [BarcodeParseCommand.self]
    )
}

/// `floorgate barcode parse`: GS1 element strings, ISO/IEC 15434 messages and HIBC codes
/// checked and broken into elements, one JSON object per input (INTERFACES.md).
struct BarcodeParseCommand: ParsableCommand, PrintsJSON {
    static let configuration = CommandConfiguration(
        commandName: "parse",
        abstract: "Parse scanned content into elements and check it; one JSON object per input.",
        discussion: """
            Each TEXT is one scan as the scanner sent it, AIM symbology identifier included \
            (]C1 GS1-128, ]d2 GS1 DataMatrix, ]E0 EAN-13, …). Without TEXT, each line of \
            standard input is one scan. The output says the symbology, the scheme (gs1, \
            iso15434, hibc or plain), the elements, whether the content is valid and, if not, \
            why. Invalid content is a "valid": false line, never an error exit.

            GS1 checks follow the GS1 Barcode Syntax Dictionary (\(GS1Dictionary.sourceVersion.prefix(60))…): \
            check digits, dates, lengths, character sets, every component linter, separators, \
            requisites, exclusions and repeated AIs.

            Examples:
              floorgate barcode parse ']C1010950600013435210ABC123'
              floorgate barcode parse '(01)09506000134352(17)261231(10)LOT-7'
              floorgate barcode parse --gs1 01095060001343521726123110LOT-7
              floorgate barcode parse --escapes ']d2010950600013435210A1\\x1d21SN-42'
              floorgate barcode parse '+E123PN4711A03'
            """
    )

    @Argument(help: ArgumentHelp("Scanned content; standard input, one per line, when none is given.", valueName: "text"))
    var texts: [String] = []

    @Flag(help: "Read data without an AIM identifier that starts with a digit as GS1 element strings.")
    var gs1 = false

    @Flag(help: "Undo \\xHH escapes (\\x1d for GS, \\x1e RS, \\x04 EOT) and \\\\ in the input.")
    var escapes = false

    @OptionGroup var output: JSONOutput

    func run() throws {
        if texts.isEmpty {
            while let line = readLine(strippingNewline: true) {
                let text = line.hasSuffix("\r") ? String(line.dropLast()) : line
                print(parse(text))
            }
        } else {
            for text in texts { print(parse(text)) }
        }
    }

    private func parse(_ text: String) -> String {
        ScannedContent(parsing: escapes ? EscapedText.string(text) : text, assumeGS1: gs1).jsonLine
    }
}
