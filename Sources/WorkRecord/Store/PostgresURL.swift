public import Foundation
import RecordProtocol

/// A PostgreSQL connection URL in libpq's form, read as libpq reads it:
/// `postgresql://[user[:password]@][host][:port][,host[:port]…][/database][?key=value&…]`.
/// A host that starts with `/` (in the URL percent-encoded, or as `?host=/run/postgresql`) is
/// the directory of the server's Unix socket. Several hosts are tried in order; with
/// `target_session_attrs=read-write` only a server that accepts writes is kept.
public struct PostgresURL: Sendable, Hashable, CustomStringConvertible {
    /// One server to try: a host name or address and its TCP port, or a socket directory and the
    /// port that names the socket file in it.
    public struct Endpoint: Sendable, Hashable, CustomStringConvertible {
        public var host: String
        public var port: Int

        /// Whether `host` is a Unix socket directory.
        public var isSocket: Bool { host.hasPrefix("/") }
        /// The socket file of a socket endpoint (`DIR/.s.PGSQL.PORT`).
        public var socketPath: String { host + "/.s.PGSQL.\(port)" }
        public var description: String { isSocket ? socketPath : host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
    }

    /// libpq's `sslmode`.
    public enum SSLMode: String, Sendable, Hashable, CaseIterable {
        case disable, allow, prefer, require
        case verifyCA = "verify-ca"
        case verifyFull = "verify-full"
    }

    /// Why a URL could not be read.
    public struct ParseError: Error, Sendable, CustomStringConvertible {
        public var description: String
    }

    public var endpoints: [Endpoint]
    public var user: String
    /// The password written in the URL itself (discouraged: use a password file).
    public var password: String?
    public var database: String
    public var sslMode: SSLMode
    /// The CA certificates a `verify-ca` or `verify-full` connection trusts (`sslrootcert`).
    public var sslRootCertificate: String?
    /// Whether only a server that accepts writes will do (`target_session_attrs=read-write`).
    public var requiresReadWrite: Bool
    /// The password file (`passfile`, else `PGPASSFILE`, else `~/.pgpass`).
    public var passwordFile: String
    /// Seconds to wait for each server (`connect_timeout`; 10 when not given).
    public var connectTimeout: Int

    /// The URL's parameters Floorgate understands; any other is refused rather than ignored.
    static let knownParameters: Set<String> = [
        "host", "port", "user", "password", "dbname", "sslmode", "sslrootcert", "target_session_attrs", "passfile",
        "connect_timeout", "application_name",
    ]

    /// Reads `text`. Parts the URL leaves out take libpq's defaults from the environment
    /// (`PGHOST`, `PGPORT`, `PGUSER`, `PGDATABASE`, `PGPASSFILE`, `PGSSLMODE`), then the
    /// built-in ones: the socket directory /var/run/postgresql, port 5432, the user running
    /// Floorgate, a database named like the user.
    public init(_ text: String, environment: [String: String] = ProcessInfo.processInfo.environment) throws(ParseError) {
        let scheme: String
        if text.hasPrefix("postgresql://") { scheme = "postgresql://" } else if text.hasPrefix("postgres://") { scheme = "postgres://" } else {
            throw ParseError(description: "'\(Self.redacted(text))' is not a PostgreSQL URL (postgresql://…)")
        }
        var rest = Substring(text.dropFirst(scheme.count))
        // As libpq reads it: credentials up to an `@` that comes before any `/` (a password may
        // hold `?`), then hosts up to `/` or `?`, the database up to `?`, then the parameters.
        var urlUser: String?, urlPassword: String?
        if let at = rest.firstIndex(where: { $0 == "@" || $0 == "/" }), rest[at] == "@" {
            let userInfo = rest[..<at]
            if let colon = userInfo.firstIndex(of: ":") {
                urlUser = try Self.decoded(userInfo[..<colon], what: "user")
                urlPassword = try Self.decoded(userInfo[userInfo.index(after: colon)...], what: "password")
            } else {
                urlUser = try Self.decoded(userInfo, what: "user")
            }
            rest = rest[rest.index(after: at)...]
        }
        var parameters: [String: String] = [:]
        if let question = rest.firstIndex(of: "?") {
            for pair in rest[rest.index(after: question)...].split(separator: "&", omittingEmptySubsequences: true) {
                guard let equals = pair.firstIndex(of: "=") else {
                    throw ParseError(description: "a URL parameter has no value (key=value)")
                }
                let key = try Self.decoded(pair[..<equals], what: "parameter name")
                guard Self.knownParameters.contains(key) else {
                    throw ParseError(description: "URL parameter '\(key)' is not one Floorgate understands: \(Self.knownParameters.sorted().joined(separator: ", "))")
                }
                parameters[key] = try Self.decoded(pair[pair.index(after: equals)...], what: "value of \(key)")
            }
            rest = rest[..<question]
        }
        var urlDatabase: String?
        if let slash = rest.firstIndex(of: "/") {
            let name = try Self.decoded(rest[rest.index(after: slash)...], what: "database")
            urlDatabase = name.isEmpty ? nil : name
            rest = rest[..<slash]
        }
        var hosts: [String] = [], ports: [String] = []
        if !rest.isEmpty {
            for spec in rest.split(separator: ",", omittingEmptySubsequences: false) {
                let (host, port) = try Self.hostAndPort(spec)
                hosts.append(host)
                ports.append(port)
            }
        }
        if let list = parameters["host"] { hosts = list.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        if let list = parameters["port"] { ports = list.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        if hosts.isEmpty || hosts == [""] {
            hosts = (environment["PGHOST"].map { $0.split(separator: ",").map(String.init) }) ?? ["/var/run/postgresql"]
        }
        if ports.isEmpty || ports.allSatisfy(\.isEmpty), let port = environment["PGPORT"] { ports = [port] }
        guard ports.count <= 1 || ports.count == hosts.count else {
            throw ParseError(description: "the URL names \(hosts.count) hosts but \(ports.count) ports")
        }
        endpoints = try hosts.enumerated().map { index, host throws(ParseError) in
            let portText = ports.isEmpty ? "" : ports[ports.count == 1 ? 0 : index]
            guard let port = portText.isEmpty ? 5432 : Int(portText), (1...65535).contains(port) else {
                throw ParseError(description: "port '\(portText)' is not a number from 1 to 65535")
            }
            return Endpoint(host: host.isEmpty ? "/var/run/postgresql" : host, port: port)
        }
        user = [parameters["user"], urlUser, environment["PGUSER"]].compactMap { $0 }.first { !$0.isEmpty } ?? Self.currentUser()
        password = parameters["password"] ?? urlPassword
        database = parameters["dbname"] ?? urlDatabase ?? environment["PGDATABASE"] ?? user
        let mode = parameters["sslmode"] ?? environment["PGSSLMODE"] ?? "prefer"
        guard let sslMode = SSLMode(rawValue: mode) else {
            throw ParseError(description: "sslmode '\(mode)' is not one of: \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        self.sslMode = sslMode
        sslRootCertificate = parameters["sslrootcert"]
        let attributes = parameters["target_session_attrs"] ?? "any"
        guard ["any", "read-write"].contains(attributes) else {
            throw ParseError(description: "target_session_attrs '\(attributes)' is not one Floorgate supports: any, read-write")
        }
        requiresReadWrite = attributes == "read-write"
        passwordFile = parameters["passfile"] ?? environment["PGPASSFILE"]
            ?? ((environment["HOME"] ?? NSHomeDirectory()) + "/.pgpass")
        let timeout = parameters["connect_timeout"] ?? "10"
        guard let seconds = Int(timeout), seconds >= 0 else {
            throw ParseError(description: "connect_timeout '\(timeout)' is not a number of seconds")
        }
        connectTimeout = seconds == 0 ? 10 : max(seconds, 2)
    }

    /// The URL as logs and errors show it: every part but the password.
    public var description: String {
        let hosts = endpoints.map { $0.isSocket ? $0.host.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? $0.host : $0.description }
        return "postgresql://\(user)@\(hosts.joined(separator: ","))/\(database)"
    }

    /// `text` with a password between `://user:` and `@` replaced, for error messages.
    static func redacted(_ text: String) -> String {
        guard let scheme = text.range(of: "://"), let at = text[scheme.upperBound...].lastIndex(of: "@"),
              let colon = text[scheme.upperBound..<at].firstIndex(of: ":")
        else { return text }
        return String(text[..<text.index(after: colon)]) + "…" + String(text[at...])
    }

    private static func hostAndPort(_ spec: Substring) throws(ParseError) -> (String, String) {
        if spec.hasPrefix("[") {
            guard let close = spec.firstIndex(of: "]") else { throw ParseError(description: "host '\(spec)' has no closing ']'") }
            let host = String(spec[spec.index(after: spec.startIndex)..<close])
            let after = spec[spec.index(after: close)...]
            guard after.isEmpty || after.hasPrefix(":") else { throw ParseError(description: "unexpected '\(after)' after host [\(host)]") }
            return (host, String(after.dropFirst()))
        }
        if let colon = spec.lastIndex(of: ":") {
            return (try decoded(spec[..<colon], what: "host"), String(spec[spec.index(after: colon)...]))
        }
        return (try decoded(spec, what: "host"), "")
    }

    private static func decoded(_ text: Substring, what: String) throws(ParseError) -> String {
        guard let value = String(text).removingPercentEncoding else {
            throw ParseError(description: "the URL's \(what) has a bad %-escape")
        }
        return value
    }

    private static func currentUser() -> String {
        ProcessInfo.processInfo.userName.isEmpty ? "postgres" : ProcessInfo.processInfo.userName
    }
}

/// libpq's password file: `host:port:database:user:password` lines, `*` matching anything,
/// `\:` and `\\` escaping. A Unix socket connection matches the host `localhost` or its
/// socket directory.
enum PostgresPasswordFile {
    /// The password for `endpoint`, `database` and `user` from the file's text; nil without a match.
    static func password(in text: String, endpoint: PostgresURL.Endpoint, database: String, user: String) -> String? {
        let host = endpoint.isSocket ? ["localhost", endpoint.host] : [endpoint.host]
        for line in text.split(whereSeparator: \.isNewline) where !line.hasPrefix("#") {
            let fields = split(line)
            guard fields.count == 5 else { continue }
            func matches(_ field: String, _ candidates: [String]) -> Bool { field == "*" || candidates.contains(field) }
            if matches(fields[0], host), matches(fields[1], [String(endpoint.port)]), matches(fields[2], [database]),
               matches(fields[3], [user])
            {
                return fields[4]
            }
        }
        return nil
    }

    /// The password from the file at `path`, which libpq (and so Floorgate) ignores unless only
    /// its owner can read it. Returns the reason it was ignored as a warning instead.
    static func password(
        file path: String, endpoint: PostgresURL.Endpoint, database: String, user: String
    ) -> (password: String?, warning: String?) {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return (nil, nil) }
        if let mode = (attributes[.posixPermissions] as? NSNumber)?.intValue, mode & 0o077 != 0 {
            return (nil, "password file \(path) is readable by others (mode \(String(mode, radix: 8))); it is ignored until chmod 0600")
        }
        guard let data = FileManager.default.contents(atPath: path), let text = String(data: data, encoding: .utf8) else {
            return (nil, "password file \(path) cannot be read")
        }
        return (password(in: text, endpoint: endpoint, database: database, user: user), nil)
    }

    /// A line's fields at unescaped colons, with `\:` and `\\` unescaped.
    private static func split(_ line: Substring) -> [String] {
        var fields: [String] = [], field = "", escaped = false
        for character in line {
            if escaped {
                field.append(character)
                escaped = false
            } else if character == "\\" {
                escaped = true
            } else if character == ":" && fields.count < 4 {
                fields.append(field)
                field = ""
            } else {
                field.append(character)
            }
        }
        fields.append(field)
        return fields
    }
}
