import Crypto
import FloorgateCore
import Foundation
import RecordProtocol
import Testing
@testable import WorkRecord

/// Pictures on instruction steps: what an SVG may hold, and a picture's way from `media.put`
/// through an approved revision to the build, the DHR and a redline's difference.
@Suite("Step pictures", .timeLimit(.minutes(3)))
struct StepPictureTests {
    /// A real 1×1 PNG (a red pixel).
    static let png = DeviceEvent.bytes(fromHex: "89504e470d0a1a0a0000000d4948445200000001000000010802000000907753de0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082") ?? []

    static let drawing = """
        <?xml version="1.0" encoding="UTF-8"?>
        <!-- the bore, seen from the top -->
        <svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" viewBox="0 0 100 100">
          <title>Bore &amp; datum A</title>
          <defs><linearGradient id="metal"><stop offset="0" stop-color="#ccc"/><stop offset="1" stop-color="#888"/></linearGradient></defs>
          <circle cx="50" cy="50" r="40" fill="url(#metal)" stroke="black"/>
          <use xlink:href="#metal" x="1"/>
          <text x="50" y="95" text-anchor="middle" font-size="8">Ø12.000 ±0.020</text>
        </svg>
        """

    @Test("a drawing of shapes, gradients, text and inner links is allowed, declared UTF-8 or not")
    func allowed() throws {
        try SVGAllowList.check(Array(Self.drawing.utf8))
        try SVGAllowList.check(Array(#"<?xml version='1.0' encoding='utf-8'?><svg><rect fill="url(&#35;g)"/></svg>"#.utf8))
    }

    @Test("what could run, load or reach out is refused, naming it", arguments: [
        (#"<svg><script>alert(1)</script></svg>"#, "element <script>"),
        (#"<svg><foreignObject><p>hi</p></foreignObject></svg>"#, "element <foreignObject>"),
        (#"<svg onload="alert(1)"></svg>"#, "event attribute onload"),
        (#"<svg><rect ONCLICK="x()"/></svg>"#, "event attribute ONCLICK"),
        (#"<svg><a href="javascript:alert(1)"><rect/></a></svg>"#, "element <a>"),
        (#"<svg><use href="javascript:alert(1)"/></svg>"#, "must point inside the picture"),
        (#"<svg><use href="https://example.com/x.svg#a"/></svg>"#, "must point inside the picture"),
        (#"<svg><use xlink:href=" jav&#x61;script:x"/></svg>"#, "must point inside the picture"),
        (#"<svg><image href="https://example.com/x.png"/></svg>"#, "element <image>"),
        (#"<svg><rect fill="url(https://example.com/p.svg#g)"/></svg>"#, "refers outside the picture"),
        (#"<svg><rect fill="url(data:image/png;base64,AAAA)"/></svg>"#, "data URL"),
        (#"<svg><style>rect { fill: url(http://x) }</style></svg>"#, "element <style>"),
        (#"<svg><rect style="fill:red"/></svg>"#, "attribute style"),
        (#"<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg>&a;</svg>"#, "DOCTYPEs, entities"),
        (#"<svg><text>&a;</text></svg>"#, "entity &a;"),
        (#"<svg><rect></svg>"#, "does not close"),
        (#"<svg><rect/>"#, "never closed"),
        (#"<html><svg/></html>"#, "single <svg>"),
        (#"<svg/><svg/>"#, "single <svg>"),
        (#"<svg><rect x="1" x="2"/></svg>"#, "appears twice"),
        (#"<?xml-stylesheet href="x.css"?><svg/>"#, "processing instructions"),
        (#"<svg><rect fill="u&#114;l(https://example.com/p.svg#g)"/></svg>"#, "refers outside the picture"),
        (#"<svg><use href="&#x6a;avascript:x"/></svg>"#, "must point inside the picture"),
        (#"<svg><rect fill="\75rl(https://example.com/x)"/></svg>"#, "backslash escape"),
        (#"<?xml version="1.0" encoding="UTF-16"?><svg/>"#, "encoding other than UTF-8"),
        (#"<?xml version="1.0" encoding='ISO-2022-JP'?><svg/>"#, "encoding other than UTF-8"),
        ("<svg><text>\u{1B}$B</text></svg>", "control character U+1B"),
        (#"<svg><text>&#27;</text></svg>"#, "control character U+1B"),
        ("<svg><defs><g id='a'/></defs>" + String(repeating: "<use href='#a'/>", count: 9) + "</svg>", "more than 8 <use> elements"),
    ])
    func refused(svg: String, reason: String) {
        #expect(throws: SVGAllowList.Refusal.self) { try SVGAllowList.check(Array(svg.utf8)) }
        do {
            try SVGAllowList.check(Array(svg.utf8))
        } catch {
            #expect(error.reason.contains(reason), "\(svg): \(error.reason)")
        }
    }

    @Test("any bytes are refused or allowed, never a crash: the drawing cut and garbled 5,000 ways")
    func garbled() {
        var state: UInt64 = 0x9E37_79B9
        let base = Array(Self.drawing.utf8)
        for _ in 0..<5_000 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            var bytes = Array(base.prefix(Int(state >> 40) % (base.count + 1)))
            for _ in 0..<Int((state >> 20) % 4) {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                if !bytes.isEmpty { bytes[Int(state >> 33) % bytes.count] = UInt8(truncatingIfNeeded: state >> 13) }
            }
            _ = try? SVGAllowList.check(bytes)
        }
    }

    func put(_ client: RecordClient, _ bytes: [UInt8], type: String) async throws -> JSONValue {
        try await client.call("media.put", withKey(["content_type": .string(type), "data": .string(Data(bytes).base64EncodedString()), "user": "eric"]))
    }

    @Test("a picture goes from media.put by its hash into a revision, the build, the DHR and a redline's difference; bytes are checked against the hash", arguments: RecordHarness.backends)
    func pictureThroughTheRecord(_ backend: RecordBackendKind) async throws {
        let harness = try await RecordHarness(backend)
        let client = harness.client()
        _ = try await client.call("record.import", withKey(try RecordHarness.exampleImport))
        let stored = try await put(client, Self.png, type: "image/png")
        let hash = DeviceEvent.hex(Array(SHA256.hash(data: Self.png)))
        #expect(stored["hash"] == .string(hash) && stored["size"] == 69 && stored["stored"] == true)
        #expect(try await put(client, Self.png, type: "image/png")["stored"] == false)
        let drawing = try await put(client, Array(Self.drawing.utf8), type: "image/svg+xml")

        #expect(await recordError { _ = try await put(client, Array(repeating: 0x89, count: StepPicture.largest + 1), type: "image/png") } == .pictureTooLarge)
        #expect(await recordError { _ = try await put(client, Array("GIF89a".utf8), type: "image/png") } == .pictureRefused)
        #expect(await recordError { _ = try await put(client, Array("<svg onload=\"x()\"/>".utf8), type: "image/svg+xml") } == .pictureRefused)
        #expect(await recordError { _ = try await put(client, Self.png, type: "image/gif") } == .invalidParams)

        func steps(_ pictures: [JSONValue]) -> JSONValue {
            [["key": "10", "title": "Check bore", "text": "Measure the bore.", "pictures": .array(pictures),
              "points": [["name": "bore", "kind": "measure", "unit": "mm", "lower": "11.98", "upper": "12.02"]]]]
        }
        func instruction(_ revision: String, _ pictures: [JSONValue]) -> JSONValue {
            ["part": "HX-200", "part_revision": "C", "operation": "030", "revision": .string(revision), "title": "Bore check", "steps": steps(pictures)]
        }
        let unknown = String(repeating: "ab", count: 32)
        #expect(await recordError { _ = try await client.call("record.import", withKey(["instructions": [instruction("A", [["hash": .string(unknown), "caption": "x"]])]])) } == .notFound)
        _ = try await client.call("record.import", withKey([
            "instructions": [instruction("A", [["hash": .string(hash), "caption": "bore gauge position"]])],
            "work_orders": [["number": "WO-30", "part": "HX-200", "part_revision": "C", "quantity": 1, "operations": ["030"], "serials": ["PIC-1"], "status": "released"]],
        ]))
        _ = try await client.call("instruction.approve", withKey(["part": "HX-200", "part_revision": "C", "operation": "030", "revision": "A", "signature": signature("ada")]))
        let build = try await client.call("build.open", withKey(["serial": "PIC-1", "station": "bench-3", "operator": "olga"]))
        #expect(build["active_step"]?["pictures"] == [["hash": .string(hash), "caption": "bore gauge position"]])
        let dhr = try await client.call("dhr.export", ["serial": "PIC-1"])
        #expect(dhr["builds"]?.arrayValue?.first?["instruction_revisions"]?.arrayValue?.first?["pictures"] == [["step": "10", "hash": .string(hash), "caption": "bore gauge position"]], "\(dhr.text)")
        let fetched = try await client.call("media.get", ["hash": .string(hash)])
        #expect(fetched["content_type"] == "image/png" && fetched["data"] == .string(Data(Self.png).base64EncodedString()))

        // A changed picture is a new hash: the redline's difference shows one removed, one added.
        let redline = try await client.call("redline.publish", withKey([
            "part": "HX-200", "part_revision": "C", "operation": "030", "new_revision": "B", "reason": "ECO-7: a clearer drawing",
            "steps": steps([["hash": drawing["hash"] ?? .null, "caption": "bore gauge position, drawn"]]), "signature": signature("eric"),
        ]))
        #expect(redline["revision"] == "B")
        _ = try await client.call("instruction.approve", withKey([
            "part": "HX-200", "part_revision": "C", "operation": "030", "revision": "B", "signature": signature("ada"),
        ]))
        let changes = try await client.call("build.get", ["serial": "PIC-1"])["pending_redline"]?["changes"]?["steps"]?.arrayValue?.first?["pictures"]
        #expect(changes == [
            ["hash": .string(hash), "caption": "bore gauge position", "change": "removed"],
            ["hash": drawing["hash"] ?? .null, "caption": "bore gauge position, drawn", "change": "added"],
        ], "\(changes?.text ?? "none")")

        // The audit entry holds the hash and size, not the bytes; altered bytes are caught.
        #expect(try await harness.count("SELECT COUNT(*) FROM audit WHERE entity = 'media' AND new LIKE '%\(hash)%' AND new NOT LIKE '%iVBOR%'") == 1)
        #expect(try await harness.verifyFile().problem == nil)
        try await harness.tamper([
            "DROP TRIGGER media_content_no_update" + (backend == .postgres ? " ON media_content" : ""),
            "UPDATE media_content SET bytes = \(backend == .postgres ? "'\\x00'::bytea" : "x'00'") WHERE hash = '\(hash)'",
        ])
        #expect(await recordError { _ = try await client.call("media.get", ["hash": .string(hash)]) } == .internalError)
        #expect(try await harness.verifyFile().problem?.contains("media_content_no_update") == true)
        try await harness.stop()
    }
}
