import FixtureSupport
import Foundation
import LocalPostgres
import Logging
import PostgresNIO
import Testing
@testable import WorkRecord

@Suite("PostgreSQL URLs and password files, read as libpq reads them", .timeLimit(.minutes(3)))
struct PostgresURLTests {
    /// No PG* variables, a home of our own: what the URL says and the built-in defaults only.
    static let bare = ["HOME": "/home/station", "USER": "station"]

    @Test("host, port, user, database, socket directories (as a parameter or percent-encoded), IPv6, several hosts")
    func forms() throws {
        let plant = try PostgresURL("postgresql://floorgate@db.plant/record", environment: Self.bare)
        #expect(plant.endpoints == [.init(host: "db.plant", port: 5432)])
        #expect(plant.user == "floorgate" && plant.database == "record" && plant.sslMode == .prefer && !plant.requiresReadWrite)

        let socket = try PostgresURL("postgresql:///record?host=/run/postgresql", environment: Self.bare)
        #expect(socket.endpoints.first?.socketPath == "/run/postgresql/.s.PGSQL.5432")
        let encoded = try PostgresURL("postgres://%2Fvar%2Frun%2Fpostgresql:5433/record", environment: Self.bare)
        #expect(encoded.endpoints == [.init(host: "/var/run/postgresql", port: 5433)])
        #expect(encoded.endpoints.first?.isSocket == true)

        let standby = try PostgresURL(
            "postgresql://floorgate@pg-a:5433,pg-b/record?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=/etc/floorgate/ca.pem",
            environment: Self.bare)
        #expect(standby.endpoints == [.init(host: "pg-a", port: 5433), .init(host: "pg-b", port: 5432)])
        #expect(standby.requiresReadWrite && standby.sslMode == .verifyFull && standby.sslRootCertificate == "/etc/floorgate/ca.pem")

        let listed = try PostgresURL("postgresql:///record?host=a,b&port=6001,6002&user=q", environment: Self.bare)
        #expect(listed.endpoints == [.init(host: "a", port: 6001), .init(host: "b", port: 6002)] && listed.user == "q")
        let v6 = try PostgresURL("postgresql://[::1]:5434/db", environment: Self.bare)
        #expect(v6.endpoints == [.init(host: "::1", port: 5434)] && v6.endpoints[0].description == "[::1]:5434")

        let defaults = try PostgresURL("postgresql://", environment: Self.bare)
        #expect(defaults.endpoints == [.init(host: "/var/run/postgresql", port: 5432)])
        #expect(defaults.database == defaults.user && defaults.passwordFile == "/home/station/.pgpass")
        let environment = try PostgresURL(
            "postgresql://", environment: ["PGHOST": "db.plant", "PGPORT": "6543", "PGUSER": "u", "PGDATABASE": "d", "PGPASSFILE": "/etc/pgpass"])
        #expect(environment.endpoints == [.init(host: "db.plant", port: 6543)] && environment.user == "u" && environment.database == "d")
        #expect(environment.passwordFile == "/etc/pgpass")
    }

    @Test("a password never shows in the URL's description; bad URLs are refused naming what is wrong, without the password")
    func refusals() throws {
        let url = try PostgresURL("postgresql://floorgate:s3cret@db.plant/record", environment: Self.bare)
        #expect(url.password == "s3cret" && !url.description.contains("s3cret"))
        // As libpq: a `?` in the password is part of it; an `@` after the host is not credentials.
        let question = try PostgresURL("postgresql://u:pa?ss@db.plant/record?sslmode=require", environment: Self.bare)
        #expect(question.password == "pa?ss" && question.endpoints[0].host == "db.plant" && question.sslMode == .require)
        for (text, fragment) in [
            ("mysql://db/record", "not a PostgreSQL URL"), ("postgresql://db:99999/record", "port '99999'"),
            ("postgresql://db/record?sslmode=sometimes", "sslmode 'sometimes'"), ("postgresql://db/record?ssl=true", "'ssl' is not one"),
            ("postgresql://db/record?target_session_attrs=standby", "target_session_attrs"),
            ("postgresql://a,b,c/record?port=1,2", "3 hosts but 2 ports"), ("postgresql://[::1/record", "closing ']'"),
        ] {
            #expect(throws: PostgresURL.ParseError.self, "\(text)") { try PostgresURL(text, environment: Self.bare) }
            #expect((try? PostgresURL(text, environment: Self.bare)) == nil)
            do {
                _ = try PostgresURL(text, environment: Self.bare)
            } catch {
                #expect(error.description.contains(fragment), "\(text): \(error)")
            }
        }
        do {
            _ = try PostgresURL("mysql://u:hunter2@db/record")
        } catch {
            #expect(!error.description.contains("hunter2"))
        }
    }

    @Test("psql reads the same URLs the same way: database, user, socket directory or host, port", .enabled(if: PostgresTestCluster.available))
    func sameAsPsql() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let database = try cluster.createDatabase()
        let encodedDirectory = cluster.directory.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cluster.directory
        for text in [
            cluster.socketURL(database),
            "postgresql://\(cluster.owner)@\(encodedDirectory):\(cluster.port)/\(database)",
            "postgres:///\(database)?host=\(cluster.directory)&port=\(cluster.port)&user=\(cluster.owner)&application_name=floorgate",
        ] {
            let url = try PostgresURL(text, environment: Self.bare)
            let conninfo = try cluster.psqlConnectionInfo(text)
            #expect(conninfo.contains("database \"\(url.database)\""), "\(text): \(conninfo)")
            #expect(conninfo.contains("user \"\(url.user)\""), "\(text): \(conninfo)")
            #expect(conninfo.contains("socket in \"\(url.endpoints[0].host)\""), "\(text): \(conninfo)")
            #expect(conninfo.contains("port \"\(url.endpoints[0].port)\""), "\(text): \(conninfo)")
        }
    }

    @Test("TLS to the database: verify-full checks the CA and the server's name; the password comes from the URL's password file", .enabled(if: PostgresTestCluster.available))
    func verifiedTLS() async throws {
        let cluster = try await PostgresTestCluster.shared()
        let database = try cluster.createDatabase()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        func openssl(_ arguments: [String]) async throws {
            let status = try await offThePool {
                let process = Process()
                process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
                process.arguments = arguments
                process.currentDirectoryURL = URL(fileURLWithPath: directory)
                // What openssl prints goes to the test's own output rather than to
                // FileHandle.nullDevice, one descriptor the whole test process shares.
                try process.run()
                process.waitUntilExit()
                return process.terminationStatus
            }
            #expect(status == 0, "openssl \(arguments)")
        }
        // A plant CA, a server certificate for localhost signed by it, and a CA nobody trusts.
        for name in ["ca", "other-ca"] {
            try await openssl(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=\(name)", "-keyout", "\(name).key", "-out", "\(name).pem"])
        }
        try await openssl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "server.key", "-out", "server.csr"])
        try "subjectAltName=DNS:localhost\n".write(toFile: directory + "/san.ext", atomically: true, encoding: .utf8)
        try await openssl(["x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", "san.ext", "-out", "server.pem"])
        try cluster.enableTLS(certificate: directory + "/server.pem", key: directory + "/server.key")
        let passwordFile = directory + "/pgpass"
        try "*:\(cluster.port):\(database):\(cluster.owner):\(PostgresTestCluster.password)\n".write(toFile: passwordFile, atomically: true, encoding: .utf8)
        chmod(passwordFile, 0o600)

        func connect(_ host: String, ca: String) async throws -> Bool {
            let url = try PostgresURL(
                "postgresql://\(cluster.owner)@\(host):\(cluster.port)/\(database)?sslmode=verify-full&sslrootcert=\(directory)/\(ca)&passfile=\(passwordFile)",
                environment: Self.bare)
            let connection = try await PostgresConnector(url: url, logger: .init(label: "tls-test")).connect()
            let encrypted = try await PostgresTransaction(connection: connection, logger: .init(label: "tls-test"))
                .rows("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", []).first?["ssl"] as Bool?
            try await connection.close()
            return encrypted == true
        }
        #expect(try await connect("localhost", ca: "ca.pem"))
        // The right CA but another name (the certificate says localhost), and a CA it was not signed by.
        await #expect(throws: RecordStoreError.self) { try await connect("127.0.0.1", ca: "ca.pem") }
        await #expect(throws: RecordStoreError.self) { try await connect("localhost", ca: "other-ca.pem") }
    }

    @Test("password files: the first matching line, * and escapes, localhost for a socket, ignored unless private")
    func passwordFiles() throws {
        let text = """
            # host:port:database:user:password
            db.plant:5432:record:floorgate:first\\:part
            *:*:record:floorgate:second
            localhost:5432:*:quality:desk-pw
            """
        let plant = PostgresURL.Endpoint(host: "db.plant", port: 5432), other = PostgresURL.Endpoint(host: "db2", port: 5432)
        let socket = PostgresURL.Endpoint(host: "/run/postgresql", port: 5432)
        #expect(PostgresPasswordFile.password(in: text, endpoint: plant, database: "record", user: "floorgate") == "first:part")
        #expect(PostgresPasswordFile.password(in: text, endpoint: other, database: "record", user: "floorgate") == "second")
        #expect(PostgresPasswordFile.password(in: text, endpoint: socket, database: "any", user: "quality") == "desk-pw")
        #expect(PostgresPasswordFile.password(in: text, endpoint: plant, database: "any", user: "quality") == nil)

        let path = FileManager.default.temporaryDirectory.appendingPathComponent("pgpass-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        chmod(path, 0o644)
        let shared = PostgresPasswordFile.password(file: path, endpoint: plant, database: "record", user: "floorgate")
        #expect(shared.password == nil && shared.warning?.contains("chmod 0600") == true)
        chmod(path, 0o600)
        #expect(PostgresPasswordFile.password(file: path, endpoint: plant, database: "record", user: "floorgate").password == "first:part")
    }
}
