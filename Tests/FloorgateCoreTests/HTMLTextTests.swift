import FloorgateCore
import Testing

@Suite("HTML escaping")
struct HTMLTextTests {
    @Test("the five characters HTML gives meaning become references; other text is left alone")
    func references() {
        #expect(HTMLText.escaped(#"<a href="x" title='y'>&</a>"#) == "&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;")
        #expect(HTMLText.escaped("Ø 12.5 µm · bore") == "Ø 12.5 µm · bore")
        #expect(HTMLText.escaped("") == "")
    }

    @Test("a quote or bracket followed by a combining mark is escaped: one Character to Swift, still a quote to the browser")
    func combiningMarks() {
        for sneaky in ["x\"\u{301} onfocus=alert(1) y", "x'\u{301} onfocus=alert(1)", "<\u{338}script>", "&\u{301}lt;"] {
            let escaped = HTMLText.escaped(sneaky)
            #expect(!escaped.unicodeScalars.contains { ["\"", "'", "<", ">"].contains($0) }, "\(escaped)")
        }
        // (Literals with a combining mark after an escaped quote stay out of #expect: its macro
        // cannot quote them.)
        let quote = "x\"\u{301}", escapedQuote = "x&quot;\u{301}", ampersand = "&\u{301}lt;", escapedAmpersand = "&amp;\u{301}lt;"
        #expect(HTMLText.escaped(quote).unicodeScalars.elementsEqual(escapedQuote.unicodeScalars))
        #expect(HTMLText.escaped(ampersand).unicodeScalars.elementsEqual(escapedAmpersand.unicodeScalars))
    }
}
