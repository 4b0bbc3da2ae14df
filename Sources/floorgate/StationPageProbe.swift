import FloorgateCore
import Foundation
import Glibc

/// Reads the station page's `state.json` (viewers, last update, open serial) with a plain HTTP/1.0
/// GET on a loopback socket: the demo asks whether anyone has the page open.
enum StationPageProbe {
    /// The state at `url` (`http://127.0.0.1:8480/`), or nil when the page does not answer.
    static func state(url: String) -> JSONValue? {
        guard let components = URLComponents(string: url), let host = components.host, let port = components.port,
              let address = IPv4Address(host) else { return nil }
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard socket >= 0 else { return nil }
        defer { close(socket) }
        var wait = timeval(tv_sec: 2, tv_usec: 0)  // a page that accepts but never answers is no answer
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &wait, socklen_t(MemoryLayout<timeval>.size))
        var target = sockaddr_in()
        target.sin_family = sa_family_t(AF_INET)
        target.sin_port = in_port_t(UInt16(port).bigEndian)
        target.sin_addr = address.value
        let connected = withUnsafePointer(to: &target) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { return nil }
        let request = Array("GET /state.json HTTP/1.0\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
        guard send(socket, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return nil }
        var answer: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = recv(socket, &chunk, chunk.count, 0)
            guard count > 0 else { break }
            answer += chunk[..<count]
        }
        let separator: [UInt8] = [13, 10, 13, 10]
        guard let end = answer.indices.first(where: { answer[$0...].starts(with: separator) }) else { return nil }
        return try? JSONValue(parsing: answer[(end + 4)...])
    }

    private struct IPv4Address {
        var value: in_addr
        init?(_ text: String) {
            var address = in_addr()
            guard inet_pton(AF_INET, text, &address) == 1 else { return nil }
            value = address
        }
    }
}
