import Foundation
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import PostgresNIO
import Synchronization
import RecordProtocol

/// Opens a connection as a URL asks: each server in order, the password from the URL or the
/// password file, TLS as `sslmode` says (never over a Unix socket), and with
/// `target_session_attrs=read-write` only a server that accepts writes (a promoted standby, not
/// one still in recovery).
struct PostgresConnector {
    let url: PostgresURL
    let logger: Logger
    /// The event loop the connection runs on.
    var eventLoop: any EventLoop = MultiThreadedEventLoopGroup.singleton.any()

    /// Connection ids for the driver's logs, unique in this process.
    private static let nextID = Atomic<Int>(1)

    /// The first server of the URL that takes the connection; `unreachable` naming each server and
    /// why it was passed over when none does, `failed` when a server refused the login.
    func connect() async throws(RecordStoreError) -> PostgresConnection {
        var reasons: [String] = []
        for endpoint in url.endpoints {
            do {
                let connection = try await connect(to: endpoint)
                guard url.requiresReadWrite else { return connection }
                do {
                    if try await !isReadOnly(connection) { return connection }
                    reasons.append("\(endpoint): accepts no writes (target_session_attrs=read-write)")
                } catch {
                    reasons.append("\(endpoint): \(Self.reason(error))")
                }
                try? await connection.close()
            } catch let error as RecordStoreError where error.kind == .failed {
                throw error
            } catch {
                reasons.append("\(endpoint): \(Self.reason(error))")
            }
        }
        throw RecordStoreError(.unreachable, "cannot reach the record database \(url): \(reasons.joined(separator: "; "))")
    }

    private func connect(to endpoint: PostgresURL.Endpoint) async throws -> PostgresConnection {
        let password = try resolvedPassword(for: endpoint)
        var configuration: PostgresConnection.Configuration
        if endpoint.isSocket {
            configuration = .init(unixSocketPath: endpoint.socketPath, username: url.user, password: password, database: url.database)
        } else {
            configuration = .init(
                host: endpoint.host, port: endpoint.port, username: url.user, password: password, database: url.database,
                tls: try tls(for: endpoint))
        }
        configuration.options.connectTimeout = .seconds(Int64(url.connectTimeout))
        do {
            return try await PostgresConnection.connect(
                on: eventLoop, configuration: configuration, id: Self.nextID.wrappingAdd(1, ordering: .relaxed).oldValue, logger: logger)
        } catch let error as PSQLError where error.code == .server {
            // The server answered and refused: a wrong password, an unknown role or database.
            let state = error.serverInfo?[.sqlState] ?? ""
            let message = error.serverInfo?[.message] ?? "\(error.code)"
            if state.hasPrefix("28") || state == "3D000" || state == "42501" {
                throw RecordStoreError(.failed, "the record database \(url) refused the login at \(endpoint): \(message)")
            }
            throw error
        }
    }

    /// The URL's password, else the password file's entry for this server; nil when neither has one.
    private func resolvedPassword(for endpoint: PostgresURL.Endpoint) throws -> String? {
        if let password = url.password { return password }
        let found = PostgresPasswordFile.password(file: url.passwordFile, endpoint: endpoint, database: url.database, user: url.user)
        if let warning = found.warning { logger.warning("\(warning)") }
        return found.password
    }

    /// TLS as `sslmode` asks. `verify-ca` and `verify-full` check the server's certificate against
    /// `sslrootcert`; `verify-full` also checks its name.
    private func tls(for endpoint: PostgresURL.Endpoint) throws -> PostgresConnection.Configuration.TLS {
        var configuration = TLSConfiguration.makeClientConfiguration()
        switch url.sslMode {
        case .disable:
            return .disable
        case .allow, .prefer, .require:
            configuration.certificateVerification = .none
        case .verifyCA, .verifyFull:
            guard let roots = url.sslRootCertificate else {
                throw RecordStoreError(.failed, "sslmode=\(url.sslMode.rawValue) needs sslrootcert=FILE naming the CA certificates to trust")
            }
            configuration.trustRoots = .file(roots)
            configuration.certificateVerification = url.sslMode == .verifyFull ? .fullVerification : .noHostnameVerification
        }
        let context = try NIOSSLContext(configuration: configuration)
        switch url.sslMode {
        case .allow, .prefer: return .prefer(context)
        default: return .require(context)
        }
    }

    private func isReadOnly(_ connection: PostgresConnection) async throws -> Bool {
        let transaction = PostgresTransaction(connection: connection, logger: logger)
        return try await transaction.rows("SHOW transaction_read_only", []).first?.values.first == .text("on")
    }

    /// Why a server could not be reached, in a technician's words.
    private static func reason(_ error: any Error) -> String {
        if let error = error as? PSQLError {
            if let message = error.serverInfo?[.message] { return message }
            if let underlying = error.underlying { return "\(underlying)" }
            return "\(error.code)"
        }
        return "\(error)"
    }
}
