import DeviceIO
import FloorgateCore
import Foundation
import Glibc
import RecordProtocol
import Testing
import WorkRecord

@Suite("floorgate record, build, dhr and verify", .timeLimit(.minutes(3)))
struct RecordCommandTests {
    static let exampleImport = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("examples/record-import.json").path

    @Test("serve on a socket, import, approve with a password on stdin, show a build, stop on SIGTERM, then DHR and verify the file")
    func servedRecord() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let database = scratch.path("record.sqlite"), socket = scratch.path("record.sock")
        let server = try FloorgateChild.recordServer(database, socket: socket, logLevel: "warning")
        #expect(await server.firstLine() == "listening on \(socket)")
        var status = stat()
        #expect(stat(socket, &status) == 0 && status.st_mode & 0o777 == 0o600)  // no floorgate group here
        #expect(server.standardError.contains("0600"))

        let imported = try await FloorgateProcess.run(["record", "import", Self.exampleImport, "--socket", socket])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(try JSONValue(parsing: Array(imported.standardOutput.utf8))["users"] == 5)

        let approve = ["record", "approve", "--part", "HX-200", "--part-revision", "C", "--operation", "010", "--revision", "A", "--user", "ada", "--socket", socket]
        let refused = try await FloorgateProcess.run(approve, input: Array("not-her-password\n".utf8))
        #expect(refused.status == 1)
        #expect(refused.standardError.contains("signature rejected"), "\(refused.standardError)")
        // The wrong password slows the next attempt by a second: one that comes sooner is told so.
        var approved = try await FloorgateProcess.run(approve, input: Array("bench-ada-1\n".utf8))
        for _ in 0..<3 where approved.status == 1 && approved.standardError.contains("try again in") {
            try await Task.sleep(for: .seconds(1))
            approved = try await FloorgateProcess.run(approve, input: Array("bench-ada-1\n".utf8))
        }
        #expect(approved.status == 0, "\(approved.standardError)")

        let client = RecordClient(socketPath: socket)
        _ = try await client.call("build.open", ["serial": "SN-0001", "station": "bench-3", "operator": "olga", "idempotency_key": "k-open-1"])
        let shown = try await FloorgateProcess.run(["build", "show", "SN-0001", "--socket", socket])
        #expect(shown.status == 0, "\(shown.standardError)")
        let build = try JSONValue(parsing: Array(shown.standardOutput.utf8))
        #expect(build["active_step"]?["key"] == "10" && build["instruction"]?["revision"] == "A")
        let unknown = try await FloorgateProcess.run(["build", "show", "SN-4040", "--socket", socket])
        #expect(unknown.status == 1 && unknown.standardError.contains("SN-4040"))

        // While the server writes the file, a command writing to it directly is refused, naming
        // the file; a reader is not.
        let direct = try await FloorgateProcess.run([
            "record", "nc", "raise", "--build-id", "1", "--description", "scratch", "--raised-by", "olga", "--db", database,
            "--password-rounds", "1000",
        ])
        #expect(direct.status == 1 && direct.standardError.contains("\(database) is open for writing in another process"), "\(direct.standardError)")
        let verifiedWhileServed = try await FloorgateProcess.run(["verify", "--db", database])
        #expect(verifiedWhileServed.status == 0, "\(verifiedWhileServed.standardError)")

        server.kill(SIGTERM)
        #expect(await server.wait(timeout: .seconds(10)) == 0)
        #expect(!FileManager.default.fileExists(atPath: socket))

        let page = scratch.path("SN-0001.html")
        let dhr = try await FloorgateProcess.run(["dhr", "SN-0001", "--db", database, "--format", "html", "--output", page])
        #expect(dhr.status == 0, "\(dhr.standardError)")
        let html = try String(contentsOfFile: page, encoding: .utf8)
        #expect(html.contains("Device history record — serial SN-0001") && html.contains("Ada Approver") && !html.contains("<script"))

        let verified = try await FloorgateProcess.run(["verify", "--db", database])
        #expect(verified.status == 0, "\(verified.standardError)")
        #expect(verified.standardOutput.contains("verify; head "))
    }

    @Test("redline, nc raise, nc disposition, sign, unlock and route through the executable, on the file with --db")
    func peopleCommands() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let db = ["--db", scratch.path("record.sqlite"), "--password-rounds", "1000"]
        func run(_ arguments: [String], password: String? = nil) async throws -> JSONValue {
            let outcome = try await FloorgateProcess.run(arguments + db, input: Array(((password ?? "") + "\n").utf8))
            #expect(outcome.status == 0, "\(arguments): \(outcome.standardError)")
            return (try? JSONValue(parsing: Array(outcome.standardOutput.utf8))) ?? .null
        }
        let instruction = ["--part", "HX-200", "--part-revision", "C", "--operation", "010"]
        _ = try await run(["record", "import", Self.exampleImport])
        _ = try await run(["record", "approve"] + instruction + ["--revision", "A", "--user", "ada"], password: "bench-ada-1")

        // A build to work on, opened as the gateway would, on the same file.
        let store = try await RecordStore.open(.sqlite(path: scratch.path("record.sqlite")), passwordRounds: 1_000)
        let opened = try await store.perform(RecordCall(
            method: "build.open", params: ["serial": "SN-0001", "station": "bench-3", "operator": "olga", "idempotency_key": "k-1"], peer: "test"))
        try await store.close()
        let buildID = try #require(opened.result["build_id"]?.integerValue)

        let nc = try await run(["record", "nc", "raise", "--build-id", "\(buildID)", "--description", "scratch on the face", "--raised-by", "olga"])
        let ncID = try #require(nc["nc_id"]?.integerValue)
        let disposition = try await run(
            ["record", "nc", "disposition", "--nc-id", "\(ncID)", "--disposition", "use-as-is", "--comment", "cosmetic: face scratch under 0.1 mm", "--user", "quinn"],
            password: "bench-quinn-1")
        #expect(disposition["disposition"] == "use-as-is" && disposition["status"] == "awaiting concurrence")
        // A concession needs a second quality user; the proposer's concurrence is refused.
        let ownConcurrence = try await FloorgateProcess.run(["record", "nc", "concur", "--nc-id", "\(ncID)", "--user", "quinn"] + db, input: Array("bench-quinn-1\n".utf8))
        #expect(ownConcurrence.status == 1 && ownConcurrence.standardError.contains("record error 1042"), "\(ownConcurrence.standardError)")

        let steps = scratch.path("steps.json")
        let stepsValue = try #require(try JSONValue(parsing: Data(contentsOf: URL(fileURLWithPath: Self.exampleImport)))["instructions"]?.arrayValue?.first?["steps"])
        // Revision B: the cover screws' upper limit raised.
        try Data(stepsValue.text.replacingOccurrences(of: #""upper":"1.30""#, with: #""upper":"1.40""#).utf8).write(to: URL(fileURLWithPath: steps))
        let redline = try await run(
            ["record", "redline"] + instruction + ["--new-revision", "B", "--why", "ECO-7: new gasket", "--steps", steps, "--user", "eric"],
            password: "bench-eric-1")
        #expect(redline["revision"] == "B" && redline["status"] == "draft")
        // The redline takes effect once the approver approves its revision; the author may not.
        let approve = ["record", "approve"] + instruction + ["--revision", "B"]
        let byAuthor = try await FloorgateProcess.run(approve + ["--user", "eric"] + db, input: Array("bench-eric-1\n".utf8))
        #expect(byAuthor.status == 1 && byAuthor.standardError.contains("approver role"), "\(byAuthor.standardError)")
        let approved = try await run(approve + ["--user", "ada"], password: "bench-ada-1")
        #expect(approved["status"] == "approved" && approved["affected_builds"] == [.integer(buildID)])
        let difference = try await run(["record", "diff"] + instruction + ["--from", "A", "--to", "B", "--json"])
        #expect(difference["part"] == "HX-200" && difference["operation"] == "010" && difference["from"] == "A" && difference["to"] == "B")
        #expect(difference["steps"] == [[
            "key": "30", "title": "Torque cover screws", "change": "changed", "title_edits": .null, "text_edits": .null,
            "points": [["name": "cover screws", "change": "changed", "fields": [["field": "upper", "from": "1.30", "to": "1.40"]]]], "pictures": [],
        ]], "\(difference)")
        // On a terminal the same difference is text.
        let terminal = try PseudoTerminal()
        let diff = Process()
        diff.executableURL = FloorgateProcess.executable
        diff.arguments = ["record", "diff"] + instruction + ["--from", "A", "--to", "B"] + db
        diff.standardOutput = try #require(FileHandle(forWritingAtPath: terminal.path))
        try diff.run()
        diff.waitUntilExit()
        #expect(diff.terminationStatus == 0)
        var printed: [UInt8] = []
        while case let chunk = terminal.receive(timeoutMilliseconds: 200), !chunk.isEmpty { printed += chunk }
        #expect(String(decoding: printed, as: UTF8.self).split(separator: "\n").map(String.init) == [
            "HX-200 rev C, operation 010: revision A → B",
            "step 30 'Torque cover screws': changed",
            "  point 'cover screws': upper 1.30 → 1.40",
        ])

        let review = try await run(["record", "sign", "--record-type", "build", "--record-id", "\(buildID)", "--subject", "first article", "--user", "quinn"], password: "bench-quinn-1")
        #expect(review["printed_name"] == "Quinn Quality" && review["meaning"] == "reviewed")
        #expect(try await run(["record", "unlock", "--login", "olga", "--user", "root-admin"], password: "bench-admin-1")["locked"] == false)
        let routed = try await run(["record", "route", "--station", "bench-7", "--operation", "010", "--operation", "020", "--user", "eric"], password: "bench-eric-1")
        #expect(routed["station"] == "bench-7" && routed["operations"] == ["010", "020"])

        let shown = try await run(["build", "show", "SN-0001"])
        #expect(shown["pending_redline"]?["to_revision"] == "B")
        #expect(try await FloorgateProcess.run(["verify", "--db", scratch.path("record.sqlite")]).status == 0)
    }

    @Test("verify exits 3 naming the problem when one byte of the file changed")
    func verifyCatchesAFlippedByte() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let database = scratch.path("record.sqlite")
        let imported = try await FloorgateProcess.run(["record", "import", Self.exampleImport, "--db", database, "--password-rounds", "1000"])
        #expect(imported.status == 0, "\(imported.standardError)")
        #expect(try await FloorgateProcess.run(["verify", "--db", database]).status == 0)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: database))
        let range = try #require(bytes.range(of: Data("Eric Engineer".utf8)))
        bytes[range.lowerBound] = UInt8(ascii: "A")  // "Aric Engineer"
        try bytes.write(to: URL(fileURLWithPath: database))
        let broken = try await FloorgateProcess.run(["verify", "--db", database])
        #expect(broken.status == 3)
        #expect(broken.standardError.contains("does not verify") || broken.standardError.contains("damaged"), "\(broken.standardError)")
    }

    @Test("bad usage exits 2 and says what is allowed; a missing record exits 1")
    func usageErrors() async throws {
        let format = try await FloorgateProcess.run(["dhr", "SN-1", "--db", "/nonexistent/record.sqlite", "--format", "pdf"])
        #expect(format.status == 2 && format.standardError.contains("json, html"))
        let missing = try await FloorgateProcess.run(["verify", "--db", "/nonexistent/record.sqlite"])
        #expect(missing.status == 1 && missing.standardError.contains("/nonexistent/record.sqlite"))
        let noServer = try await FloorgateProcess.run(["build", "show", "SN-1", "--socket", "/nonexistent/record.sock"])
        #expect(noServer.status == 1 && noServer.standardError.contains("record serve"))
        let rounds = try await FloorgateProcess.run(["record", "import", "x.json", "--db", "r.sqlite", "--password-rounds", "10"])
        #expect(rounds.status == 2)
    }

    @Test("a second record serve on a socket a live server answers on is refused and the first keeps it; a stale socket is replaced; a client that half-closes gets every answer")
    func socketOwnership() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let socketPath = scratch.path("record.sock")
        let first = try FloorgateChild.recordServer(scratch.path("first.sqlite"), socket: socketPath)
        #expect(await first.firstLine() == "listening on \(socketPath)")

        let second = try await FloorgateProcess.run(["record", "serve", "--db", scratch.path("second.sqlite"), "--socket", socketPath])
        #expect(second.status == 1 && second.standardError.contains("a record server already answers on \(socketPath)"), "\(second.standardError)")

        // Two requests, then the client shuts down its writing side and reads to the end.
        let answers = try Self.requestsThenHalfClose(socketPath, lines: [
            #"{"jsonrpc":"2.0","id":1,"method":"record.info"}"#, #"{"jsonrpc":"2.0","id":2,"method":"record.info"}"#,
        ])
        #expect(answers.count == 2, "\(answers)")
        #expect(answers.allSatisfy { $0.contains(#""audit_head""#) }, "\(answers)")

        // A server killed outright leaves its socket file behind: the next one takes it.
        first.kill(SIGKILL)
        _ = await first.wait(timeout: .seconds(10))
        #expect(FileManager.default.fileExists(atPath: socketPath))
        let third = try FloorgateChild.recordServer(scratch.path("first.sqlite"), socket: socketPath)
        defer { third.kill(SIGKILL) }
        #expect(await third.firstLine() == "listening on \(socketPath)")
    }

    @Test("at the descriptor limit the record's accept loop backs off instead of spinning, and serves again once descriptors are free")
    func descriptorLimit() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let socketPath = scratch.path("record.sock")
        let server = try FloorgateChild.recordServer(scratch.path("record.sqlite"), socket: socketPath, logLevel: "critical")
        defer { server.kill(SIGKILL) }
        #expect(await server.firstLine() == "listening on \(socketPath)")
        // The server may open a few more descriptors than it has now; a client or two beyond
        // that, accept meets EMFILE.
        let inUse = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(server.pid)/fd").count
        // util-linux's prlimit(1) sets the running server's soft limit (Glibc's module lacks prlimit(2)).
        let lowered = Process()
        lowered.executableURL = URL(fileURLWithPath: "/usr/bin/prlimit")
        lowered.arguments = ["--pid", "\(server.pid)", "--nofile=\(inUse + 4):"]
        try lowered.run()
        lowered.waitUntilExit()
        try #require(lowered.terminationStatus == 0)
        let clients = (0..<40).map { _ in socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0) }
        for client in clients { _ = Self.atUnixAddress(socketPath, descriptor: client, connect) }  // the backlog holds them
        try await Task.sleep(for: .milliseconds(500))  // it accepts what it can and meets the limit
        let before = Self.cpuSeconds(server.pid)
        try await Task.sleep(for: .seconds(2))
        let spent = Self.cpuSeconds(server.pid) - before
        #expect(spent < 0.5, "the server used \(spent) s of CPU in 2 s at the descriptor limit")
        for client in clients { close(client) }
        let answers = try Self.requestsThenHalfClose(socketPath, lines: [#"{"jsonrpc":"2.0","id":1,"method":"record.info"}"#])
        #expect(answers.count == 1 && answers[0].contains(#""audit_head""#), "\(answers)")
    }

    /// User and system CPU time a process has used, in seconds (from /proc).
    private static func cpuSeconds(_ pid: pid_t) -> Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let end = stat.lastIndex(of: ")") else { return 0 }
        let fields = stat[stat.index(after: end)...].split(separator: " ")
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }

    /// Runs `call` (`connect` or `bind`) on `descriptor` with the Unix socket address `path`, and
    /// gives the socket a 20 s receive timeout; returns what `call` returned.
    private static func atUnixAddress(
        _ path: String, descriptor: Int32, _ call: (Int32, UnsafePointer<sockaddr>, socklen_t) -> Int32
    ) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let result = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { call(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return result
    }

    /// Writes `lines` on a new connection to `path`, shuts down the writing side and reads the
    /// answer lines until the server closes the connection.
    private static func requestsThenHalfClose(_ path: String, lines: [String]) throws -> [String] {
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(descriptor) }
        try #require(Self.atUnixAddress(path, descriptor: descriptor, connect) == 0)
        let request = Array(lines.map { $0 + "\n" }.joined().utf8)
        #expect(request.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) } == request.count)
        shutdown(descriptor, Int32(SHUT_WR))
        var received: [UInt8] = [], buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = read(descriptor, &buffer, buffer.count)
            guard count > 0 else { break }  // 0: the server closed; -1: the timeout
            received += buffer[..<count]
        }
        return String(decoding: received, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    @Test("record serve tells systemd it is ready once it listens, and that it is stopping on SIGTERM")
    func serviceNotifications() async throws {
        let scratch = try ScratchDirectory()
        defer { scratch.remove() }
        let notifySocket = scratch.path("notify.sock")
        let listener = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        defer { close(listener) }
        #expect(Self.atUnixAddress(notifySocket, descriptor: listener, bind) == 0)
        func message() -> String {
            var buffer = [UInt8](repeating: 0, count: 512)
            let count = recv(listener, &buffer, buffer.count, 0)
            return count > 0 ? String(decoding: buffer[..<count], as: UTF8.self) : ""
        }
        let server = try FloorgateChild.recordServer(
            scratch.path("record.sqlite"), socket: scratch.path("record.sock"), environment: ["NOTIFY_SOCKET": notifySocket])
        #expect(message().hasPrefix("READY=1"))
        server.kill(SIGTERM)
        #expect(message() == "STOPPING=1")
        #expect(await server.wait(timeout: .seconds(10)) == 0)
    }
}
