#if canImport(Glibc)
import Glibc
#endif
import Barcodes

// Times GS1 parsing and validation of element strings read from a file (one per line, GS as
// the byte 0x1D), as `scripts/bench-gs1.py` runs it beside biip on the same file. Prints one
// line: `ns_per_string <p50> <min> <max> strings <count> invalid <count>` over 9 rounds.

guard CommandLine.arguments.count == 2 else {
    print("usage: gs1-throughput CORPUS-FILE")
    exit(2)
}
guard let file = fopen(CommandLine.arguments[1], "r") else {
    print("gs1-throughput: cannot open \(CommandLine.arguments[1])")
    exit(1)
}
var lines: [String] = []
var buffer = [CChar](repeating: 0, count: 4096)
while fgets(&buffer, Int32(buffer.count), file) != nil {
    var line = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    if line.hasSuffix("\n") { line.removeLast() }
    if !line.isEmpty { lines.append(line) }
}
fclose(file)

/// Parses every line once and returns how many were valid; a plain function, so the timed loop
/// does not pay for the main actor's isolation checks on top-level globals.
func countValid(_ lines: [String]) -> Int {
    var valid = 0
    for line in lines where ScannedContent(parsing: line).isValid { valid += 1 }
    return valid
}

func measure(_ lines: [String]) -> (perString: [Double], invalid: Int) {
    let invalid = lines.count - countValid(lines)  // warm-up and count
    var perString: [Double] = []
    let clock = ContinuousClock()
    for _ in 0..<9 {
        var valid = 0
        let elapsed = clock.measure { valid = countValid(lines) }
        precondition(valid == lines.count - invalid)
        let nanoseconds = Double(elapsed.components.seconds) * 1e9 + Double(elapsed.components.attoseconds) / 1e9
        perString.append(nanoseconds / Double(lines.count))
    }
    return (perString.sorted(), invalid)
}

let (perString, invalid) = measure(lines)
print("ns_per_string \(perString[4]) \(perString[0]) \(perString[8]) strings \(lines.count) invalid \(invalid)")
