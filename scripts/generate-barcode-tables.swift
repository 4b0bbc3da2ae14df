// Generates the Barcodes module's tables from their published sources (run by `make generate`):
//
//   Sources/Barcodes/Generated/GS1Dictionary+Entries.swift
//       every Application Identifier of the GS1 Barcode Syntax Dictionary: format components
//       (character set, lengths, optional parts, linters), predefined-length flag, requisites
//       (`req=`), exclusions (`ex=`) and title. Ranges such as 3100-3105 become one entry per AI.
//   Sources/Barcodes/Generated/ISOCodeLists.swift
//       ISO 3166-1 numeric and alpha-2 country codes and ISO 4217 numeric currency codes, from
//       Debian's iso-codes package (the GS1 linters iso3166, iso3166999, iso3166alpha2, iso4217).
//
// Usage: swift scripts/generate-barcode-tables.swift [GS1-DICTIONARY] [ISO-CODES-JSON-DIR]
// Defaults: ../shared/gs1/gs1-syntax-dictionary.txt and /usr/share/iso-codes/json. The data files
// themselves are not part of Floorgate; only this generator and its output are. A linter the
// dictionary names that Floorgate does not implement stops the generator (add it to GS1Linter).

import Foundation

let arguments = CommandLine.arguments.dropFirst()
let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
let dictionaryURL = arguments.first.map { URL(fileURLWithPath: $0) }
    ?? repository.deletingLastPathComponent().appendingPathComponent("shared/gs1/gs1-syntax-dictionary.txt")
let isoDirectory = URL(fileURLWithPath: arguments.dropFirst().first ?? "/usr/share/iso-codes/json")
let outputDirectory = repository.appendingPathComponent("Sources/Barcodes/Generated")

/// The linters Floorgate implements (Sources/Barcodes/GS1Linters.swift); the generator refuses
/// a dictionary that names any other.
let implementedLinters: Set<String> = [
    "couponcode", "couponposoffer", "csum", "csumalpha", "gcppos1", "gcppos2", "hasnondigit", "hh", "hhmi",
    "hyphen", "iban", "importeridx", "iso3166", "iso3166999", "iso3166alpha2", "iso4217", "iso5218", "latitude",
    "longitude", "mediatype", "mi", "nonzero", "nozeroprefix", "packagetype", "pcenc", "pieceoftotal",
    "posinseqslash", "ss", "winding", "yesno", "yymmd0", "yymmdd", "yyyymmdd", "zero",
]
let flagCharacters = Set("*!?\"$%&'()+,-./:;<=>@[\\]^_`{|}~")

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("generate-barcode-tables: \(message)\n".utf8))
    exit(1)
}

func swiftString(_ text: String) -> String {
    "\"" + text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
}

func sha256(_ url: URL) -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/sha256sum")
    process.arguments = [url.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    do { try process.run() } catch { fail("cannot run sha256sum: \(error)") }
    process.waitUntilExit()
    let output = String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    return String(output.prefix(64))
}

// MARK: - GS1 Barcode Syntax Dictionary

struct Component {
    var charset: String  // numeric, cset82, cset39, cset64
    var minimum: Int
    var maximum: Int
    var optional: Bool
    var linters: [String]
}

struct Entry {
    var ai: String
    var title: String
    var predefinedLength: Bool
    var components: [Component]
    var requisites: [[[String]]]
    var exclusions: [String]
    var unit: String?
}

func parseComponent(_ token: String, line: Int) -> Component {
    var text = Substring(token)
    var optional = false
    if text.hasPrefix("[") {
        optional = true
        text = text.dropFirst()
        guard let close = text.firstIndex(of: "]") else { fail("line \(line): unclosed '[' in '\(token)'") }
        text = text[..<close] + text[text.index(after: close)...]
    }
    let parts = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let format = parts[0]
    let charset: String
    switch format.first {
    case "N": charset = "numeric"
    case "X": charset = "cset82"
    case "Y": charset = "cset39"
    case "Z": charset = "cset64"
    default: fail("line \(line): unknown character set in '\(token)'")
    }
    let lengthText = format.dropFirst()
    let minimum: Int
    let maximum: Int
    if lengthText.hasPrefix("..") {
        guard let value = Int(lengthText.dropFirst(2)) else { fail("line \(line): bad length in '\(token)'") }
        (minimum, maximum) = (1, value)
    } else {
        guard let value = Int(lengthText) else { fail("line \(line): bad length in '\(token)'") }
        (minimum, maximum) = (value, value)
    }
    let linters = Array(parts.dropFirst())
    for linter in linters where !implementedLinters.contains(linter) {
        fail("line \(line): linter '\(linter)' has no implementation in Floorgate; add it to GS1Linter")
    }
    return Component(charset: charset, minimum: minimum, maximum: maximum, optional: optional, linters: linters)
}

/// The unit symbol of a measure AI's title: `NET WEIGHT (kg)` → `kg`, `KG PER m²` → `kg/m²`.
func unitSymbol(title: String) -> String? {
    if title == "KG PER m²" { return "kg/m²" }
    guard let open = title.firstIndex(of: "(") else { return nil }
    var depth = 0
    var index = open
    while index < title.endIndex {
        if title[index] == "(" { depth += 1 }
        if title[index] == ")" {
            depth -= 1
            if depth == 0 { return String(title[title.index(after: open)..<index]) }
        }
        index = title.index(after: index)
    }
    return nil
}

func parseDictionary(_ text: String) -> (entries: [Entry], release: String) {
    var entries: [Entry] = []
    var release = "unknown"
    for (offset, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
        let line = offset + 1
        if rawLine.hasPrefix("# Release:") {
            release = rawLine.dropFirst("# Release:".count).trimmingCharacters(in: .whitespaces)
        }
        if rawLine.hasPrefix("#") || rawLine.trimmingCharacters(in: .whitespaces).isEmpty { continue }
        let body: Substring
        let title: String
        if let hash = rawLine.firstIndex(of: "#") {
            body = rawLine[..<hash]
            title = rawLine[rawLine.index(after: hash)...].trimmingCharacters(in: .whitespaces)
        } else {
            body = rawLine
            title = ""
        }
        var tokens = body.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        guard !tokens.isEmpty else { continue }
        let aiToken = tokens.removeFirst()
        var flags = ""
        if let first = tokens.first, first.allSatisfy({ flagCharacters.contains($0) }) {
            flags = tokens.removeFirst()
        }
        var components: [Component] = []
        while let first = tokens.first, first.first.map({ "[NXYZ".contains($0) }) == true {
            components.append(parseComponent(tokens.removeFirst(), line: line))
        }
        guard !components.isEmpty else { fail("line \(line): no format specification") }
        var requisites: [[[String]]] = []
        var exclusions: [String] = []
        for attribute in tokens {
            if attribute.hasPrefix("req=") {
                requisites.append(attribute.dropFirst(4).split(separator: ",").map { $0.split(separator: "+").map(String.init) })
            } else if attribute.hasPrefix("ex=") {
                exclusions += attribute.dropFirst(3).split(separator: ",").map(String.init)
            }
        }
        let range = aiToken.split(separator: "-").map(String.init)
        guard let low = Int(range[0]), let high = Int(range.last ?? range[0]), range[0].allSatisfy(\.isNumber)
        else { fail("line \(line): bad AI '\(aiToken)'") }
        for value in low...high {
            let ai = String(repeating: "0", count: max(0, range[0].count - String(value).count)) + String(value)
            let measured = ai.count == 4 && ("31"..."36").contains(String(ai.prefix(2)))
            entries.append(Entry(
                ai: ai, title: title, predefinedLength: flags.contains("*"), components: components,
                requisites: requisites, exclusions: exclusions, unit: measured ? unitSymbol(title: title) : nil
            ))
        }
    }
    return (entries, release)
}

/// The entries as one text table the Barcodes module reads at first use (a large literal of
/// nested Swift values takes the optimizer many minutes; a string takes none). One line per AI,
/// tab-separated: AI, `P` (predefined length) or `-`, components (space-separated
/// `<N|X|Y|Z><min>-<max>[?][:linter,…]`, `?` optional), requisites (`;` between `req=` lists,
/// `,` between alternatives, `+` joining AIs), exclusions (`,`), unit, title.
func render(_ entries: [Entry], release: String, source: String, hash: String) -> String {
    let letters = ["numeric": "N", "cset82": "X", "cset39": "Y", "cset64": "Z"]
    let quotes = String(repeating: "\"", count: 3)
    var out = "// Generated by scripts/generate-barcode-tables.swift from the GS1 Barcode Syntax Dictionary\n"
    out += "// (\(source); dictionary release \"\(release)\", file SHA-256 \(hash.prefix(16))…). Do not edit:\n"
    out += "// run `make generate` instead.\n\n"
    out += "extension GS1Dictionary {\n"
    out += "    /// The dictionary edition these entries come from.\n"
    out += "    public static let sourceVersion = \(swiftString("\(source); release \(release); sha256 \(hash)"))\n\n"
    out += "    /// Every Application Identifier (\(entries.count)), one per line, tab-separated: AI, `P` (predefined\n"
    out += "    /// length) or `-`, components (`<N|X|Y|Z><min>-<max>[?][:linters]`, `?` optional), requisites\n"
    out += "    /// (`;` between lists, `,` between alternatives, `+` joining AIs), exclusions, unit, title.\n"
    out += "    static let table = \(quotes)\n"
    for entry in entries {
        let components = entry.components.map { component in
            (letters[component.charset] ?? "?") + "\(component.minimum)-\(component.maximum)" + (component.optional ? "?" : "")
                + (component.linters.isEmpty ? "" : ":" + component.linters.joined(separator: ","))
        }.joined(separator: " ")
        let requisites = entry.requisites.map { token in token.map { $0.joined(separator: "+") }.joined(separator: ",") }
            .joined(separator: ";")
        let fields = [
            entry.ai, entry.predefinedLength ? "P" : "-", components, requisites,
            entry.exclusions.joined(separator: ","), entry.unit ?? "", entry.title,
        ]
        out += "        " + fields.joined(separator: "\\t").replacingOccurrences(of: "\"", with: "\\\"") + "\n"
    }
    out += "        \(quotes)\n}\n"
    return out
}

// MARK: - ISO code lists

func loadJSON(_ name: String, key: String) -> [[String: String]] {
    let url = isoDirectory.appendingPathComponent(name)
    guard let data = try? Data(contentsOf: url),
          let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
          let list = object[key] as? [[String: Any]]
    else { fail("cannot read \(url.path) (Debian package iso-codes)") }
    return list.map { $0.compactMapValues { $0 as? String } }
}

func isoVersion() -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/dpkg-query")
    process.arguments = ["-W", "-f=${Version}", "iso-codes"]
    let pipe = Pipe()
    process.standardOutput = pipe
    guard (try? process.run()) != nil else { return "unknown" }
    process.waitUntilExit()
    return String(decoding: pipe.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
}

func renderCodeList(_ name: String, doc: String, _ codes: [String]) -> String {
    var lines: [String] = []
    var line = ""
    for code in codes.sorted() {
        if line.count + code.count + 1 > 96 {
            lines.append(line)
            line = ""
        }
        line += (line.isEmpty ? "" : " ") + code
    }
    if !line.isEmpty { lines.append(line) }
    let quotes = String(repeating: "\"", count: 3)
    return "    /// \(doc) (\(codes.count) codes), space-separated.\n    static let \(name)Text = \(quotes)\n"
        + lines.map { "        " + $0 }.joined(separator: "\n") + "\n        \(quotes)\n"
}

// MARK: - Main

guard let dictionaryText = try? String(contentsOf: dictionaryURL, encoding: .utf8) else {
    fail("cannot read \(dictionaryURL.path); pass the dictionary's path as the first argument")
}
var source = "gs1/gs1-syntax-dictionary"
if let readme = try? String(contentsOf: dictionaryURL.deletingLastPathComponent().appendingPathComponent("README.md"), encoding: .utf8),
   let match = readme.range(of: #"commit [0-9a-f]{7,40}"#, options: .regularExpression) {
    source += " " + readme[match]
}
let (entries, release) = parseDictionary(dictionaryText)
let gs1Output = render(entries, release: release, source: source, hash: sha256(dictionaryURL))

let countries = loadJSON("iso_3166-1.json", key: "3166-1")
let currencies = loadJSON("iso_4217.json", key: "4217")
let isoOutput = """
    // Generated by scripts/generate-barcode-tables.swift from Debian's iso-codes \(isoVersion())
    // (iso_3166-1.json, iso_4217.json). Do not edit: run `make generate` instead.

    extension ISOCodeLists {
    \(renderCodeList("countryNumeric", doc: "ISO 3166-1 numeric country codes", countries.compactMap { $0["numeric"] }))
    \(renderCodeList("countryAlpha2", doc: "ISO 3166-1 alpha-2 country codes", countries.compactMap { $0["alpha_2"] }))
    \(renderCodeList("currencyNumeric", doc: "ISO 4217 numeric currency codes", currencies.compactMap { $0["numeric"] }))
    }

    """

do {
    try FileManager.default.createDirectory(at: outputDirectory, withIntermediateDirectories: true)
    try gs1Output.write(to: outputDirectory.appendingPathComponent("GS1Dictionary+Entries.swift"), atomically: true, encoding: .utf8)
    try isoOutput.write(to: outputDirectory.appendingPathComponent("ISOCodeLists.swift"), atomically: true, encoding: .utf8)
} catch {
    fail("cannot write the generated files: \(error)")
}
print("generate-barcode-tables: \(entries.count) AIs (\(source), release \(release)); \(countries.count) countries, \(currencies.count) currencies")
