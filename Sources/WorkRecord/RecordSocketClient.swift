public import FloorgateCore
import Glibc

/// A plain blocking client of the record socket, for commands and tests: one request at a
/// time, or many pipelined. Notifications that arrive meanwhile are kept in `notifications`.
public final class RecordSocketClient {
    private let descriptor: Int32
    private var received: [UInt8] = []
    private var nextID: Int64 = 1
    /// Notifications read while waiting for answers, oldest first.
    public private(set) var notifications: [RecordNotification] = []

    /// Connects to the record socket at `path`.
    public init(path: String) throws(WorkRecordError) {
        descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { throw WorkRecordError(.internalError, "cannot create a socket: \(String(cString: strerror(errno)))") }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let pathBytes = Array(path.utf8)
        guard pathBytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            close(descriptor)
            throw WorkRecordError(.invalidParams, "socket path \(path) is too long")
        }
        withUnsafeMutableBytes(of: &address.sun_path) { buffer in
            buffer.copyBytes(from: pathBytes)
        }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size))
            }
        }
        guard connected == 0 else {
            let reason = String(cString: strerror(errno))
            close(descriptor)
            throw WorkRecordError(.internalError, "cannot reach the record at \(path): \(reason); is `floorgate record serve` running?")
        }
    }

    deinit { close(descriptor) }

    /// Calls `method` and returns its result; a JSON-RPC error is thrown as `WorkRecordError`.
    public func call(_ method: String, _ params: JSONValue = [:]) throws(WorkRecordError) -> JSONValue {
        let id = nextID
        nextID += 1
        try send(line: JSONValue.object(["jsonrpc": "2.0", "id": .integer(id), "method": .string(method), "params": params]).text)
        return try Self.result(of: try response(id: .integer(id)))
    }

    /// Sends many calls before reading any answer (pipelining); returns each result or error.
    public func pipeline(_ calls: [(method: String, params: JSONValue)]) throws(WorkRecordError) -> [Result<JSONValue, WorkRecordError>] {
        let firstID = nextID
        var text = ""
        for call in calls {
            text += JSONValue.object(["jsonrpc": "2.0", "id": .integer(nextID), "method": .string(call.method), "params": call.params]).text + "\n"
            nextID += 1
        }
        try write(Array(text.utf8))
        var results: [Result<JSONValue, WorkRecordError>] = []
        for offset in 0..<Int64(calls.count) {
            let answer = try response(id: .integer(firstID + offset))
            results.append(Result { () throws(WorkRecordError) in try Self.result(of: answer) })
        }
        return results
    }

    /// Sends one raw line (a newline is added).
    public func send(line: String) throws(WorkRecordError) {
        try write(Array((line + "\n").utf8))
    }

    /// Reads the next line the record sends, whatever it is; nil when the record closed.
    public func readLine() throws(WorkRecordError) -> JSONValue? {
        while true {
            if let newline = received.firstIndex(of: UInt8(ascii: "\n")) {
                let line = Array(received[..<newline])
                received.removeFirst(newline + 1)
                return try JSONValue(recordText: line)
            }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count < 0 && errno == EINTR { continue }
            guard count > 0 else {
                if count < 0 { throw WorkRecordError(.internalError, "reading from the record failed: \(String(cString: strerror(errno)))") }
                return nil
            }
            received += chunk[..<count]
        }
    }

    /// Waits for the next notification (reading answers' lines is not expected meanwhile).
    public func nextNotification() throws(WorkRecordError) -> RecordNotification? {
        if !notifications.isEmpty { return notifications.removeFirst() }
        guard let line = try readLine() else { return nil }
        if let method = line["method"]?.stringValue { return RecordNotification(method: method, params: line["params"] ?? .null) }
        throw WorkRecordError(.internalError, "expected a notification, got \(line.text)")
    }

    private func response(id: JSONValue) throws(WorkRecordError) -> JSONValue {
        while let line = try readLine() {
            if line["id"] == id { return line }
            if let method = line["method"]?.stringValue, line["id"] == nil {
                notifications.append(RecordNotification(method: method, params: line["params"] ?? .null))
            }
        }
        throw WorkRecordError(.internalError, "the record closed the connection before answering")
    }

    private static func result(of response: JSONValue) throws(WorkRecordError) -> JSONValue {
        if let error = response["error"] {
            let code = error["code"]?.integerValue.flatMap { WorkRecordError.Code(rawValue: Int($0)) } ?? .internalError
            throw WorkRecordError(code, error["message"]?.stringValue ?? error.text)
        }
        return response["result"] ?? .null
    }

    private func write(_ bytes: [UInt8]) throws(WorkRecordError) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { Glibc.send(descriptor, $0.baseAddress.map { $0 + offset }, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else { throw WorkRecordError(.internalError, "writing to the record failed: \(String(cString: strerror(errno)))") }
            offset += written
        }
    }
}
