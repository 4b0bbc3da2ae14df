import FloorgateCore
import Testing
import WorkRecord

@Suite("The printed device history record")
struct DeviceHistoryPageTests {
    @Test("record text on the page is escaped scalar by scalar: a quote with a combining mark stays text")
    func escaping() throws {
        let sneaky = "SN-1\"\u{301} onload=alert(1) x"
        let dhr = try JSONValue(parsing: Array("""
            {"serial": \(JSONValue.string(sneaky).text),
             "part": {"number": "HX-200", "revision": "C", "description": "<script>alert(2)</script>'\\u0301"},
             "work_order": {"number": "WO-1", "quantity": 1, "status": "released", "route": []},
             "builds": []}
            """.utf8))
        let page = DeviceHistoryPage.html(dhr)
        // (Literals with a combining mark after an escaped quote stay out of #expect: its macro
        // cannot quote them.)
        let escapedSerial = "SN-1&quot;\u{301} onload=alert(1) x", rawSerial = "SN-1\"\u{301}"
        let escapedDescription = "&lt;script&gt;alert(2)&lt;/script&gt;&#39;\u{301}"
        #expect(page.contains(escapedSerial), "the serial in the title and heading")
        #expect(!page.contains(rawSerial))
        #expect(page.contains(escapedDescription) && !page.contains("<script>"))
    }
}
