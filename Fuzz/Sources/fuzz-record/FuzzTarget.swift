import FloorgateCore
import Foundation
import Glibc
import Logging
import NIOPosix
import RecordProtocol
import WorkRecord

/// libFuzzer entry point for the record's request handling: each input is written as it is, then
/// a newline, to a record server's socket, followed by a sentinel request, and every line the
/// server sends back until the sentinel's answer is checked. The server runs in this process on
/// a record file in memory (/dev/shm), seeded with the example import and its approval, and
/// keeps what the inputs wrote from one input to the next.
///
/// Invariants: the connection stays open and answers within 10 s; every line sent back is a
/// JSON-RPC 2.0 answer (or batch of answers, or notification) whose error, if any, carries a
/// code the protocol defines, and never -32603 (the record failing inside: on any request, that
/// is a defect); every 256 inputs the audit chain verifies.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTestOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    FuzzedRecord.shared.serve(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

/// The record server under fuzzing and one connection to it.
final class FuzzedRecord: Sendable {
    static let shared = FuzzedRecord()

    private let store: RecordStore
    private let connection: Int32
    private let inputs = Counter()

    private init() {
        let directory = recordDirectory
        try? FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        atexit { try? FileManager.default.removeItem(atPath: recordDirectory) }
        let socketPath = directory + "/record.sock"
        var quiet = Logger(label: "fuzz-record")
        quiet.logLevel = .critical
        let logger = quiet
        let started = blocking {
            try await RecordServer.start(
                .sqlite(path: directory + "/record.sqlite"), options: .init(socketPath: socketPath), passwordRounds: 1_000,
                group: MultiThreadedEventLoopGroup.singleton, logger: logger)
        }
        store = started.store
        connection = Self.connect(socketPath)
        guard let example = FileManager.default.contents(atPath: "examples/record-import.json"),
              case .object(var document)? = try? JSONValue(parsing: Array(example))
        else {
            fatalError("fuzz-record runs from the repository's root: examples/record-import.json is its seed record")
        }
        document["idempotency_key"] = "fuzz-seed-import"
        let seed: [JSONValue] = [
            ["jsonrpc": "2.0", "id": 1, "method": "record.import", "params": .object(document)],
            ["jsonrpc": "2.0", "id": 2, "method": "instruction.approve", "params": [
                "idempotency_key": "fuzz-seed-approve", "part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A",
                "signature": ["user": "ada", "password": "bench-ada-1"],
            ]],
        ]
        for request in seed {
            let answers = exchange(Array(request.text.utf8))
            guard answers.first?["result"] != nil else { fatalError("the seed request was refused: \(answers.map(\.text))") }
        }
    }

    /// Sends `input` and checks every line that comes back.
    func serve(_ input: [UInt8]) {
        for line in exchange(input) { Self.check(line, after: input) }
        if inputs.next() % 256 == 0 {
            let store = store
            let report = blocking { try await store.verify() }
            if let problem = report.problem { fatalError("the audit chain no longer verifies: \(problem)") }
        }
    }

    /// Writes `input` and a newline, then a sentinel request; returns the lines sent back before
    /// the sentinel's answer.
    private func exchange(_ input: [UInt8]) -> [JSONValue] {
        let sentinelID = "fuzz-sentinel-\(inputs.current)"
        let sentinel = Array(#"{"jsonrpc":"2.0","id":"\#(sentinelID)","method":"record.info"}"#.utf8)
        write(input + [0x0A] + sentinel + [0x0A])
        var lines: [JSONValue] = []
        var pending: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(connection, &buffer, buffer.count, 0)
            guard count > 0 else {
                fatalError(count == 0 ? "the record closed the connection after: \(Self.shown(input))"
                                      : "no answer from the record within 10 s (errno \(errno)) after: \(Self.shown(input))")
            }
            pending += buffer[..<count]
            while let newline = pending.firstIndex(of: 0x0A) {
                let text = Array(pending[..<newline])
                pending.removeFirst(newline + 1)
                guard let value = try? JSONValue(parsing: text) else {
                    fatalError("the record sent a line that is not JSON: \(String(decoding: text, as: UTF8.self))")
                }
                if value["id"]?.stringValue == sentinelID { return lines }
                lines.append(value)
            }
        }
    }

    private func write(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard count > 0 else { fatalError("cannot write to the record: errno \(errno)") }
            sent += count
        }
    }

    /// One line the record sent: an answer, a batch of answers or a notification.
    private static func check(_ line: JSONValue, after input: [UInt8]) {
        if case .array(let answers) = line {
            precondition(!answers.isEmpty, "an empty batch answer")
            for answer in answers { check(answer, after: input) }
            return
        }
        guard line["jsonrpc"] == "2.0" else { fatalError("not a JSON-RPC 2.0 message: \(line.text)") }
        if line["method"] != nil, line["id"] == nil { return }  // a notification (the input subscribed)
        guard line["result"] != nil || line["error"] != nil else { fatalError("an answer with neither result nor error: \(line.text)") }
        guard let error = line["error"] else { return }
        guard let code = error["code"]?.integerValue, error["message"]?.stringValue != nil else {
            fatalError("an error without an integer code and a message: \(line.text)")
        }
        let jsonRPC: Set<Int64> = [-32700, -32600, -32601, -32602]
        guard jsonRPC.contains(code) || (RecordErrorCode(rawValue: Int(code)).map { $0 != .internalError } ?? false) else {
            fatalError("error code \(code) on a request (\(line.text)) after: \(shown(input))")
        }
    }

    private static func shown(_ input: [UInt8]) -> String {
        String(decoding: input.prefix(2000), as: UTF8.self).debugDescription
    }

    private static func connect(_ path: String) -> Int32 {
        let descriptor = LocalSocket.connect(path)
        guard descriptor >= 0 else { fatalError("cannot connect to the fuzzed record at \(path): errno \(errno)") }
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return descriptor
    }
}

/// Where the fuzzed record lives (in memory where /dev/shm is); removed when the fuzzer exits.
private let recordDirectory = (FileManager.default.fileExists(atPath: "/dev/shm") ? "/dev/shm" : NSTemporaryDirectory())
    + "/floorgate-fuzz-record-\(getpid())"

/// Counts the inputs served.
private final class Counter: @unchecked Sendable {
    // libFuzzer calls the entry point from one thread at a time.
    private(set) var current = 0
    func next() -> Int {
        current += 1
        return current
    }
}

/// Runs `body` to completion from libFuzzer's synchronous entry point.
private func blocking<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) -> T {
    let done = DispatchSemaphore(value: 0)
    let result = ResultBox<T>()
    Task {
        do { result.value = .success(try await body()) } catch { result.value = .failure(error) }
        done.signal()
    }
    done.wait()
    switch result.value {
    case .success(let value)?: return value
    case .failure(let error)?: fatalError("fuzz-record: \(error)")
    case nil: fatalError("fuzz-record: no result")
    }
}

/// A result handed from the task to the waiting thread (the semaphore orders the two).
private final class ResultBox<T>: @unchecked Sendable {
    var value: Result<T, any Error>?
}
