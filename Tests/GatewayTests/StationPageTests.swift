import DeviceIO
import FloorgateCore
import FixtureSupport
import Foundation
import Gateway
import Glibc
import Logging
import ServiceLifecycle
import StationPage
import Synchronization
import RecordProtocol
import Testing
import WorkRecord

/// The station page's board on its own: what each station event changes, and what a page that
/// reconnects is sent.
@Suite("Station page board", .timeLimit(.minutes(2)))
struct StationBoardTests {
    @Test("a reading becomes the latest reading and the list's first item, its verdict in words and a symbol")
    func reading() async {
        let board = StationBoard(station: "bench-3", operatorLogin: "olga", deviceNames: ["caliper"])
        let (_, updates) = await board.subscribe(after: nil)
        await board.apply(.recorded(source: "caliper", summary: "12.031 mm", answer: ["verdict": "fail_high", "point": "bore", "step": "10", "nc_id": 1]))
        var iterator = updates.makeAsyncIterator()
        let update = await iterator.next()
        #expect(update?.cue == "fail")
        #expect(update?.fragments.map(\.target) == ["latest", "reading-list"])
        let latest = update?.fragments.first?.html ?? ""
        #expect(latest.contains("FAIL HIGH") && latest.contains("▲") && latest.contains("12.031 mm") && latest.contains("NC 1 raised"))
        #expect(update?.fragments.last?.mode == .prepend)
        #expect(update?.serverSentEvent.hasPrefix("id: \(board.run)-1\ndata: {") == true)
    }

    @Test("every verdict has its own words and symbol; device names are escaped")
    func wordsAndEscaping() async {
        let verdicts: [PageVerdict] = [.pass, .failLow, .failHigh, .invalid, .notBound, .recorded]
        #expect(Set(verdicts.map(\.words)).count == verdicts.count && Set(verdicts.map(\.icon)).count == verdicts.count)
        let board = StationBoard(station: "bench-3", operatorLogin: "olga", deviceNames: [])
        await board.apply(.device(name: "<script>x</script>", state: .lost, message: "a&b"))
        let page = PageHTML.station(await board.snapshot)
        #expect(!page.contains("<script>x</script>") && page.contains("&lt;script&gt;x&lt;/script&gt;") && page.contains("a&amp;b"))
        #expect(page.contains("NOT CONNECTED"))
    }

    @Test("a page that reconnects gets what it missed; one too far behind is told to load again")
    func replay() async {
        let board = StationBoard(station: "bench-3", operatorLogin: "olga", deviceNames: ["caliper"])
        for index in 0..<600 {
            await board.apply(.recorded(source: "caliper", summary: "\(index) mm", answer: ["verdict": "pass"]))
        }
        #expect(await board.lastUpdateID == 600)
        let recent = await board.subscribe(after: 595).missed
        #expect(recent?.map(\.id) == [596, 597, 598, 599, 600])
        #expect(await board.subscribe(after: 600).missed == [])
        #expect(await board.subscribe(after: 10).missed == nil, "update 11 is no longer kept")
        #expect(await board.subscribe(after: 598, run: board.run).missed?.count == 2)
        #expect(await board.subscribe(after: 598, run: "an-earlier-run").missed == nil, "ids of another run mean nothing here")
        #expect(await board.subscribe(after: 700).missed == nil, "a page ahead of the board followed another run")
        await board.closeAll()
        var afterClose = await board.subscribe(after: nil).updates.makeAsyncIterator()
        #expect(await afterClose.next() == nil, "a page subscribing while the gateway stops is ended at once")
        #expect(await board.readings.count == 12)
        #expect(await board.readings.first?.summary == "599 mm")
    }
}

/// The station page served by a running station (a real record on its socket, the gateway on
/// pseudo-terminals), read over real HTTP.
@Suite("Station page", .timeLimit(.minutes(2)), .serialized)
struct StationPageTests {
    /// A station with its page on a free port.
    final class PageStation: Sendable {
        let harness: StationHarness
        let board: StationBoard
        let port: Int
        private let page: Task<Void, any Error>

        init(idleTimeout: Duration? = nil, tls: PageTLS? = nil) async throws {
            harness = try StationHarness()
            try await harness.prepareRecord()
            try await harness.startRecord()
            let board = StationBoard(station: "bench-3", operatorLogin: "olga", deviceNames: ["scanner", "caliper"])
            self.board = board
            try harness.startGateway { board.post($0) }
            var logger = Logger(label: "page")
            logger.logLevel = .critical
            var context = StationPageServer.Context(
                board: board, record: RecordClient(socketPath: harness.socketPath, followsNotifications: false, logger: logger), profiles: [],
                historyPage: { "<p>history of \($0["serial"]?.stringValue ?? "?")</p>" })
            if let idleTimeout { context.idleTimeout = idleTimeout }
            context.tls = tls
            let listening = Mutex<Int?>(nil)
            let service = StationPageService(context: context, address: "127.0.0.1", port: 0, logger: logger) { port in
                listening.withLock { $0 = port }
            }
            page = Task { try await service.run() }
            let deadline = ContinuousClock.now + .seconds(10)
            while listening.withLock({ $0 }) == nil && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(20)) }
            port = try #require(listening.withLock { $0 })
        }

        func stop() async throws {
            page.cancel()
            await harness.stopGateway()
            try await harness.stopRecord()
        }
    }

    @Test("a connection without a whole request within the idle time is closed (a head sent a byte at a time); a live channel is not")
    func idleConnectionsClosed() async throws {
        let station = try await PageStation(idleTimeout: .seconds(1))
        defer { Task { try await station.stop() } }
        let stream = try HTTP.Stream(port: station.port, path: "/events")
        let port = station.port
        let (closed, after) = try await offThePool {
            let socket = try HTTP.connect(port: port)
            defer { close(socket) }
            // A slow-loris client: the head of a request, short of its end, a byte at a time.
            let started = ContinuousClock.now
            for byte in Array("GET / HTTP/1.1\r\nhost: 127.0.0.1\r\n".utf8) {
                guard send(socket, [byte], 1, Int32(MSG_NOSIGNAL)) == 1 else { return (true, ContinuousClock.now - started) }
                Thread.sleep(forTimeInterval: 0.05)
            }
            var byte: UInt8 = 0
            let count = recv(socket, &byte, 1, 0)  // waits up to 10 s (the socket's receive timeout)
            return (count == 0, ContinuousClock.now - started)
        }
        #expect(closed && after < .seconds(8), "the half-sent request was held \(after)")
        #expect(stream.isOpen, "the live channel, answered since its request, is not idle")
    }

    @Test("the page shows the build a scan opens, each reading with its verdict as it happens, and the step")
    func liveBuild() async throws {
        let station = try await PageStation()
        defer { Task { try await station.stop() } }
        #expect(try await HTTP.get(port: station.port, "/").body.contains("No build open"))
        let stream = try HTTP.Stream(port: station.port, path: "/events?after=\(await station.board.lastUpdateID)")
        try station.harness.scanner.send(Array("SN-0001\r".utf8))
        try await station.harness.eventually("the build on the page") {
            try await HTTP.get(port: station.port, "/").body.contains("<dd id=\"serial\" class=\"big\">SN-0001</dd>")
        }
        try station.harness.caliper.send(Array("01A+0012.031\r".utf8))
        let sent = ContinuousClock.now
        let event = try await stream.read(until: "12.031 mm", timeout: .seconds(10))
        let latency = ContinuousClock.now - sent
        #expect(event.contains("FAIL HIGH") && event.contains("fail-high"))
        #expect(latency < .seconds(2), "the reading reached the live channel \(latency) after its frame")

        // A browser that reconnects says the last update it saw; it is sent what came after.
        let run = station.board.run
        let last = await station.board.lastUpdateID
        let resumed = try HTTP.Stream(port: station.port, path: "/events?run=\(run)&after=0", headers: "Last-Event-ID: \(run)-\(last - 1)\r\n")
        let replay = try await resumed.read(until: "id: \(run)-\(last)\n", timeout: .seconds(5))
        #expect(!replay.contains("id: \(run)-\(last - 1)\n"), "only what the page missed is replayed")
        let restarted = try HTTP.Stream(port: station.port, path: "/events", headers: "Last-Event-ID: some-earlier-run-\(last)\r\n")
        #expect(try await restarted.read(until: "event: reload", timeout: .seconds(5)).contains("event: reload"))
        try await station.harness.eventually("the NC to disposition on the page") {
            try await HTTP.get(port: station.port, "/").body.contains("data-action=\"nc-disposition\"")
        }
        let page = try await HTTP.get(port: station.port, "/").body
        #expect(page.contains("Check housing bore") && page.contains("11.980 … 12.020") && page.contains("NC 1"))
        let state = try JSONValue(parsing: Array(try await HTTP.get(port: station.port, "/state.json").body.utf8))
        #expect(state["serial"] == "SN-0001" && (state["viewers"]?.integerValue ?? 0) >= 1)
        #expect(try await HTTP.get(port: station.port, "/build/history").body.contains("history of SN-0001"))
        // Beside the step, its measured point's chart; the SPC page lists the instruction's points.
        #expect(page.contains("<iframe id=\"chart\" class=\"chart\" src=\"/step/charts\""))
        let charts = try await HTTP.get(port: station.port, "/step/charts").body
        #expect(charts.contains("<figure class=\"spc\" data-point=\"bore diameter\">") && charts.contains("no subgroups yet"), "\(charts)")
        let spc = try await HTTP.get(port: station.port, "/spc").body
        #expect(spc.contains("step=10&amp;point=bore%20diameter\">bore diameter</a>") && spc.contains(">cover screws</a>"), "\(spc)")
    }

    @Test("a step's picture is served by its hash, as an image that may run and load nothing; an unknown hash is not found")
    func pictures() async throws {
        let station = try await PageStation()
        defer { Task { try await station.stop() } }
        let drawing = #"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><circle cx="5" cy="5" r="4"/></svg>"#
        let stored = try await RecordClient(socketPath: station.harness.socketPath).call(.mediaPut, [
            "content_type": "image/svg+xml", "data": .string(Data(drawing.utf8).base64EncodedString()), "idempotency_key": .string(UUIDv7.make()),
        ])
        let hash = try #require(stored["hash"]?.stringValue)
        let answer = try await HTTP.get(port: station.port, "/media/\(hash)")
        #expect(answer.status == 200 && answer.body == drawing)
        let head = answer.head.lowercased()
        #expect(head.contains("content-type: image/svg+xml; charset=utf-8") && head.contains("content-security-policy: default-src 'none'; style-src 'unsafe-inline'; sandbox"), "\(answer.head)")
        // Every other answer keeps the page's policy.
        #expect(try await HTTP.get(port: station.port, "/").head.lowercased().contains("content-security-policy: default-src 'self'"))
        #expect(try await HTTP.get(port: station.port, "/media/\(String(repeating: "0", count: 64))").status == 404)
    }

    @Test("the page relays a signature only in a dialog opened for that signer, and closes a dialog after three wrong passwords")
    func signingDialogs() async throws {
        let station = try await PageStation()
        defer { Task { try await station.stop() } }
        func act(user: String, token: JSONValue, password: String) async throws -> (status: Int, answer: JSONValue) {
            let body: JSONValue = [
                "user": .string(user), "password": .string(password), "token": token, "idempotency_key": .string(UUIDv7.make()),
                "params": ["build_id": 1, "step": "10"],
            ]
            let answer = try await HTTP.post(port: station.port, "/actions/step-complete", body: body.text)
            return (answer.status, try JSONValue(parsing: Array(answer.body.utf8)))
        }
        // Without a dialog, or with another user's, nothing reaches the record.
        #expect(try await act(user: "root-admin", token: "0123", password: "guess").status == 403)
        let olga = try JSONValue(parsing: Array(try await HTTP.get(port: station.port, "/signer?user=olga").body.utf8))["token"] ?? .null
        #expect(try await act(user: "root-admin", token: olga, password: "guess").status == 403)
        // Three wrong passwords in olga's dialog, then it is closed: the fourth never reaches the record.
        for _ in 0..<3 {
            let (status, answer) = try await act(user: "olga", token: olga, password: "guess")
            #expect(status == 200 && answer["message"]?.stringValue?.contains("record error 1007") == true, "\(answer)")
        }
        let fourth = try await act(user: "olga", token: olga, password: "guess")
        #expect(fourth.status == 403 && fourth.answer["message"]?.stringValue?.contains("too many wrong passwords") == true, "\(fourth.answer)")
        let record = station.harness.client()
        #expect(try await record.call("user.get", ["login": "root-admin"])["locked"] == .bool(false))
        #expect(try await record.call("user.get", ["login": "olga"])["locked"] == .bool(false), "three attempts, not five: olga is not locked")
        // A new dialog ends the old one.
        let again = try JSONValue(parsing: Array(try await HTTP.get(port: station.port, "/signer?user=olga").body.utf8))["token"] ?? .null
        let ended = try await act(user: "olga", token: olga, password: "bench-olga-1")
        #expect(again != olga && ended.status == 403)
    }

    @Test("the page answers only to this machine's own host names, and every answer forbids framing by other sites and sniffing")
    func hostAndHeaders() async throws {
        let station = try await PageStation()
        defer { Task { try await station.stop() } }
        for host in ["127.0.0.1:\(station.port)", "localhost:\(station.port)", "[::1]:\(station.port)"] {
            let answer = try await HTTP.get(port: station.port, "/", headers: "host: \(host)\r\n")
            #expect(answer.status == 200, "\(host): \(answer.head)")
        }
        // A rebinding attacker's page: the browser sends the attacker's name as the host.
        let rebound = try await HTTP.get(port: station.port, "/build/history", headers: "host: attacker.example:\(station.port)\r\n")
        #expect(rebound.status == 421 && !rebound.body.contains("history of"), "\(rebound.head)")
        let posted = try await HTTP.post(
            port: station.port, "/actions/step-complete", body: "{}", host: "attacker.example:\(station.port)", origin: "http://attacker.example:\(station.port)")
        #expect(posted.status == 421)
        let head = try await HTTP.get(port: station.port, "/").head.lowercased()
        #expect(head.contains("x-frame-options: sameorigin") && head.contains("x-content-type-options: nosniff"), "\(head)")
        #expect(head.contains("content-security-policy:") && head.contains("frame-ancestors 'self'"), "\(head)")
        #expect(rebound.head.lowercased().contains("x-frame-options: sameorigin"))
    }

    @Test("signing on the page: who the user is first, refusals in the record's words, a redline acknowledged clears its prompt")
    func signing() async throws {
        let station = try await PageStation()
        defer { Task { try await station.stop() } }
        try station.harness.scanner.send(Array("SN-0001\r".utf8))
        try await station.harness.eventually("the build") { try await HTTP.get(port: station.port, "/").body.contains("SN-0001") }

        let signer = try JSONValue(parsing: Array(try await HTTP.get(port: station.port, "/signer?user=olga").body.utf8))
        #expect(signer["ok"] == true && signer["printed_name"] == "Olga Operator" && signer["roles"] == ["operator"])
        let nobody = try JSONValue(parsing: Array(try await HTTP.get(port: station.port, "/signer?user=nobody").body.utf8))
        #expect(nobody["ok"] == false && nobody["message"]?.stringValue?.contains("no user 'nobody'") == true)

        let buildID = try await station.harness.build()["build_id"] ?? .null
        /// Opens olga's signing dialog, as the page does when her user id is typed.
        func dialog() async throws -> JSONValue {
            try JSONValue(parsing: Array(try await HTTP.get(port: station.port, "/signer?user=olga").body.utf8))["token"] ?? .null
        }
        var token = try await dialog()
        func act(_ name: String, _ params: JSONValue, password: String) async throws -> JSONValue {
            let body: JSONValue = ["user": "olga", "password": .string(password), "token": token, "idempotency_key": .string(UUIDv7.make()), "params": params]
            return try JSONValue(parsing: Array(try await HTTP.post(port: station.port, "/actions/\(name)", body: body.text).body.utf8))
        }
        let wrong = try await act("step-complete", ["build_id": buildID, "step": "10"], password: "guess")
        #expect(wrong["ok"] == false && wrong["message"]?.stringValue?.contains("record error 1007") == true)
        let early = try await act("step-complete", ["build_id": buildID, "step": "10"], password: "bench-olga-1")
        #expect(early["ok"] == false && early["message"]?.stringValue?.contains("record error 1013") == true)
        #expect(try await HTTP.post(port: station.port, "/actions/build-close", body: "{}").status == 404)
        token = try await dialog()
        let stale = try await act("step-complete", ["build_id": buildID, "step": "20"], password: "bench-olga-1")
        #expect(stale["ok"] == false && stale["message"]?.stringValue?.contains("record error") == true, "a page showing another step signs nothing: \(stale)")
        let plain = try await HTTP.post(port: station.port, "/actions/step-complete", body: "{}", contentType: "text/plain")
        #expect(plain.status == 403, "a form from another site cannot act")
        let foreign = try await HTTP.post(port: station.port, "/actions/step-complete", body: "{}", origin: "http://evil.example")
        #expect(foreign.status == 403)

        // An engineer's redline reaches the open build: the page prompts with what changes (a
        // word and a limit of step 10); olga signs it there.
        let example = try JSONValue(parsing: try Data(contentsOf: StationHarness.repository.appendingPathComponent("examples/record-import.json")))
        let stepsA = (example["instructions"]?.arrayValue?.first?["steps"] ?? .null).text
        let stepsB = try JSONValue(parsing: Array(stepsA.replacingOccurrences(of: #""plus":"0.020""#, with: #""plus":"0.030""#)
            .replacingOccurrences(of: "at two places", with: "at three places").utf8))
        _ = try await station.harness.client().call("redline.publish", [
            "part": "HX-200", "part_revision": "C", "operation": "010", "new_revision": "B", "reason": "ECO-9: wider bore",
            "steps": stepsB, "signature": ["user": "eric", "password": "bench-eric-1"], "idempotency_key": .string(UUIDv7.make()),
        ])
        // The redline takes effect once an approver approves it.
        let redline = try await station.harness.client().call("instruction.approve", [
            "part": "HX-200", "part_revision": "C", "operation": "010", "revision": "B",
            "signature": ["user": "ada", "password": "bench-ada-1"], "idempotency_key": .string(UUIDv7.make()),
        ])
        try await station.harness.eventually("the redline prompt") { try await HTTP.get(port: station.port, "/").body.contains("id=\"redline-prompt\"") }
        let prompt = try await HTTP.get(port: station.port, "/").body
        #expect(prompt.contains("Step 10 'Check housing bore': changed"), "\(prompt)")
        #expect(prompt.contains("Text: Measure the bore at <del>two</del> <ins>three</ins> places"), "\(prompt)")
        #expect(prompt.contains("Point 'bore diameter' changed: upper 12.020 → 12.030"), "\(prompt)")
        token = try await dialog()
        let acknowledged = try await act("redline-acknowledge", ["build_id": buildID, "redline_id": redline["redline_id"] ?? .null, "serial": "ignored"], password: "bench-olga-1")
        #expect(acknowledged["ok"] == true, "\(acknowledged)")
        try await station.harness.eventually("the prompt gone and revision B shown") {
            let page = try await HTTP.get(port: station.port, "/").body
            return !page.contains("id=\"redline-prompt\"") && page.contains("revision B")
        }
    }
}

/// Plain HTTP/1.0 over a loopback socket: what a browser sends, nothing between. The socket
/// calls block, so they run on a thread of their own, never on the tests' cooperative threads
/// (two on this machine), which the station under test needs.
enum HTTP {
    struct Answer: Sendable {
        var status: Int
        var body: String
        /// The status line and header lines, as sent.
        var head: String = ""
    }

    static func get(port: Int, _ path: String, headers: String = "") async throws -> Answer {
        try await offThePool { try exchange(port: port, "GET \(path) HTTP/1.0\r\nconnection: close\r\n\(headers)\r\n") }
    }

    static func post(
        port: Int, _ path: String, body: String, contentType: String = "application/json", host: String? = nil, origin: String? = nil
    ) async throws -> Answer {
        let originLine = origin.map { "origin: \($0)\r\n" } ?? ""
        let host = host ?? "127.0.0.1:\(port)"
        return try await offThePool { try exchange(port: port, "POST \(path) HTTP/1.0\r\nconnection: close\r\nhost: \(host)\r\n\(originLine)content-type: \(contentType)\r\ncontent-length: \(body.utf8.count)\r\n\r\n\(body)") }
    }

    private static func exchange(port: Int, _ request: String) throws -> Answer {
        let socket = try connect(port: port)
        defer { close(socket) }
        let bytes = Array(request.utf8)
        guard send(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL)) == bytes.count else { throw HTTPError(what: "send") }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(socket, &chunk, chunk.count, 0)
            guard count > 0 else { break }
            answer += chunk[..<count]
        }
        let text = String(decoding: answer, as: UTF8.self)
        guard let head = text.range(of: "\r\n\r\n") else { throw HTTPError(what: "no header in \(text.prefix(200))") }
        let status = Int(text.split(separator: " ").dropFirst().first ?? "") ?? 0
        return Answer(status: status, body: String(text[head.upperBound...]), head: String(text[..<head.lowerBound]))
    }

    static func connect(port: Int) throws -> Int32 {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var wait = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        guard result == 0 else { close(socket); throw HTTPError(what: "connect to port \(port)") }
        return socket
    }

    /// An open `text/event-stream` response, read as it arrives.
    final class Stream: @unchecked Sendable {  // used by one test at a time, on one thread at a time
        private let socket: Int32
        private var received = ""

        init(port: Int, path: String, headers: String = "") throws {
            socket = try HTTP.connect(port: port)
            let bytes = Array("GET \(path) HTTP/1.0\r\n\(headers)\r\n".utf8)
            _ = send(socket, bytes, bytes.count, Int32(MSG_NOSIGNAL))
        }

        deinit { close(socket) }

        /// Whether the server still holds the stream open (unread data or none, but no end).
        var isOpen: Bool {
            var byte: UInt8 = 0
            let count = recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
            return count > 0 || (count < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        }

        /// Reads until `text` has arrived; returns everything read so far.
        func read(until text: String, timeout: Duration) async throws -> String {
            try await offThePool { try self.readBlocking(until: text, timeout: timeout) }
        }

        private func readBlocking(until text: String, timeout: Duration) throws -> String {
            let deadline = ContinuousClock.now + timeout
            var chunk = [UInt8](repeating: 0, count: 65536)
            while !received.contains(text) {
                guard ContinuousClock.now < deadline else { throw HTTPError(what: "'\(text)' never came; got \(received.suffix(500))") }
                var poller = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
                guard poll(&poller, 1, 100) > 0 else { continue }
                let count = recv(socket, &chunk, chunk.count, 0)
                guard count > 0 else { throw HTTPError(what: "the stream ended; got \(received.suffix(500))") }
                received += String(decoding: chunk[..<count], as: UTF8.self)
            }
            return received
        }
    }

    struct HTTPError: Error { var what: String }
}
