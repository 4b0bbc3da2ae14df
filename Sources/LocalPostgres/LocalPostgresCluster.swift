import CDeviceShims
import Foundation
import Synchronization
import Glibc

/// A throwaway PostgreSQL cluster on this machine: initdb and pg_ctl from Debian's postgresql
/// package in a temporary directory, listening on its own Unix socket and on a free loopback
/// port, run as a non-root user (`postgres` when the process runs as root, since PostgreSQL
/// refuses root). The plant demo runs its record on one, and the tests take a database each on
/// one. Every cluster started is stopped and removed when the process exits.
public final class LocalPostgresCluster: Sendable {
    /// The socket directory (also the data directory's parent).
    public let directory: String
    /// The loopback TCP port.
    public let port: Int
    /// The superuser role tests connect as (trusted over the socket, password over TCP).
    public let owner = "floorgate_owner"
    /// The password `owner` and every role `createRole` makes have over TCP.
    public static let password = "throwaway-pw-1"

    /// Starts a new cluster, stopped and removed when the process exits.
    public static func start() throws -> LocalPostgresCluster { try LocalPostgresCluster() }

    /// Whether PostgreSQL's server is installed (`make deps-postgres`, or Debian's `postgresql`).
    public static var available: Bool { binaries != nil }

    private static var binaries: String? {
        let root = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: root))?.sorted { Int($0) ?? 0 > Int($1) ?? 0 } ?? []
        return versions.map { "\(root)/\($0)/bin" }.first { FileManager.default.isExecutableFile(atPath: "\($0)/initdb") }
    }

    /// A new cluster: initdb, or a base backup of `primary` that streams from it (a standby).
    private init(standbyOf primary: (cluster: LocalPostgresCluster, name: String)? = nil) throws {
        guard let bin = Self.binaries else { throw ClusterError("PostgreSQL is not installed (make deps-postgres)") }
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-pg-\(UUID().uuidString.prefix(8))").path
        port = try Self.freePort()
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        // Explicitly: the process umask may be anything while a record server binds its socket.
        chmod(directory, 0o755)
        let data = directory + "/data"
        if getuid() == 0 {
            guard let user = getpwnam("postgres") else { throw ClusterError("running as root needs the postgres user to start PostgreSQL") }
            chown(directory, user.pointee.pw_uid, user.pointee.pw_gid)
        }
        if let (primary, name) = primary {
            try Self.run(
                "\(bin)/pg_basebackup",
                ["-D", data, "-d", "host=\(primary.directory) port=\(primary.port) user=\(owner) application_name=\(name)", "-R", "-X", "stream", "--no-sync"])
        } else {
            let passwordFile = directory + "/initdb-password"
            try Self.password.write(toFile: passwordFile, atomically: true, encoding: .utf8)
            chmod(passwordFile, 0o600)
            if getuid() == 0, let user = getpwnam("postgres") { chown(passwordFile, user.pointee.pw_uid, user.pointee.pw_gid) }
            try Self.run(
                "\(bin)/initdb", ["-D", data, "-U", owner, "--auth-local=trust", "--auth-host=scram-sha-256", "--pwfile=\(passwordFile)",
                                  "-E", "UTF8", "--no-sync"])
        }
        // Appended last, so a standby's copy of its primary's settings is overridden.
        let settings = """
            listen_addresses = '127.0.0.1'
            port = \(port)
            unix_socket_directories = '\(directory)'
            fsync = on
            max_connections = 200
            """
        let configuration = data + "/postgresql.conf"
        let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: configuration))
        try handle.seekToEnd()
        try handle.write(contentsOf: Data(("\n" + settings + "\n").utf8))
        try handle.close()
        // The server inherits pg_ctl's standard streams: they go nowhere, or reading them would
        // wait for the server to exit. Its log is server.log.
        try Self.run("\(bin)/pg_ctl", ["-D", data, "-l", directory + "/server.log", "-w", "-t", "60", "start"])
        let directory = directory
        Self.atExit.withLock { actions in
            if actions.isEmpty {
                atexit { LocalPostgresCluster.atExit.withLock { $0 }.forEach { $0() } }
            }
            actions.append {
                _ = try? Self.run("\(bin)/pg_ctl", ["-D", data, "-m", "immediate", "-w", "-t", "10", "stop"])
                // Plain programs at exit: Foundation's file manager may wait on locks other threads held.
                _ = try? Self.run("/bin/rm", ["-rf", directory], asPostgres: false)
            }
        }
    }

    /// Starts a standby of this cluster named `name`, streaming from it, and makes this cluster
    /// wait for it at every commit (`synchronous_standby_names`; `synchronous_commit` is on):
    /// whatever this cluster acknowledges is also on the standby.
    public func startSynchronousStandby(named name: String) throws -> LocalPostgresCluster {
        let standby = try LocalPostgresCluster(standbyOf: (self, name))
        try psql("postgres", "ALTER SYSTEM SET synchronous_standby_names = '\(name)'")
        try psql("postgres", "SELECT pg_reload_conf()")
        let deadline = ContinuousClock.now + .seconds(30)
        while try psql("postgres", "SELECT sync_state FROM pg_stat_replication WHERE application_name = '\(name)'")
            .trimmingCharacters(in: .whitespacesAndNewlines) != "sync" {
            guard ContinuousClock.now < deadline else { throw ClusterError("standby \(name) did not become synchronous") }
            Thread.sleep(forTimeInterval: 0.05)
        }
        return standby
    }

    /// Kills the server and every process of it with SIGKILL, as a power cut would: nothing is
    /// flushed or closed cleanly.
    public func crash() throws {
        let pidFile = try String(contentsOfFile: directory + "/data/postmaster.pid", encoding: .utf8)
        guard let postmaster = pid_t(pidFile.split(separator: "\n").first ?? "") else { throw ClusterError("no postmaster pid in \(pidFile)") }
        let processes = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        let children = processes.compactMap(pid_t.init).filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let fields = stat.split(separator: ")").last?.split(separator: " "), fields.count > 2
            else { return false }
            return pid_t(fields[2]) == postmaster
        }
        Glibc.kill(postmaster, SIGKILL)
        children.forEach { Glibc.kill($0, SIGKILL) }
    }

    /// Promotes a standby to a primary that takes writes, and waits until it does.
    public func promote() throws {
        guard let bin = Self.binaries else { throw ClusterError("PostgreSQL is not installed") }
        try Self.run("\(bin)/pg_ctl", ["-D", directory + "/data", "-w", "-t", "60", "promote"])
    }

    /// What stops and removes each cluster when the test process exits.
    private static let atExit = Mutex<[@Sendable () -> Void]>([])

    /// A URL for `database` over the Unix socket as `role` (default: the owner).
    public func socketURL(_ database: String, role: String? = nil) -> String {
        "postgresql:///\(database)?host=\(directory)&port=\(port)&user=\(role ?? owner)"
    }

    /// A new empty database, owned by the owner role; returns its name.
    public func createDatabase() throws -> String {
        let name = "record_\(UUID().uuidString.prefix(8).lowercased())"
        try psql("postgres", "CREATE DATABASE \(name)")
        return name
    }

    /// A login role with the test password (no privileges of its own).
    public func createRole(_ name: String) throws {
        try psql("postgres", "DO $$ BEGIN CREATE ROLE \(name) LOGIN PASSWORD '\(Self.password)'; EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL; END $$")
    }

    /// Runs `sql` in `database` with psql as the owner; returns what psql printed (unaligned, tuples only).
    @discardableResult
    public func psql(_ database: String, _ sql: String, role: String? = nil) throws -> String {
        guard let bin = Self.binaries else { throw ClusterError("PostgreSQL is not installed") }
        return try Self.run(
            "\(bin)/psql", ["-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-h", directory, "-p", String(port), "-U", role ?? owner, "-d", database, "-c", sql],
            asPostgres: false)
    }

    /// Turns TLS on for TCP connections with this server certificate and key (PEM files), which
    /// are copied into the data directory for the server's user.
    public func enableTLS(certificate: String, key: String) throws {
        for (source, name) in [(certificate, "server.crt"), (key, "server.key")] {
            let target = directory + "/data/" + name
            try? FileManager.default.removeItem(atPath: target)
            try FileManager.default.copyItem(atPath: source, toPath: target)
            chmod(target, 0o600)
            if getuid() == 0, let user = getpwnam("postgres") { chown(target, user.pointee.pw_uid, user.pointee.pw_gid) }
        }
        try psql("postgres", "ALTER SYSTEM SET ssl = on")
        try psql("postgres", "SELECT pg_reload_conf()")
    }

    /// What psql says of the connection it makes to `url` (`\conninfo`): libpq's own reading of the URL.
    public func psqlConnectionInfo(_ url: String) throws -> String {
        guard let bin = Self.binaries else { throw ClusterError("PostgreSQL is not installed") }
        return try Self.run("\(bin)/psql", [url, "-X", "-c", "\\conninfo"], asPostgres: false)
    }

    /// Runs a PostgreSQL program (as `postgres` when root, since the server refuses root); what
    /// it printed, or an error with that. Output goes through a file, not a pipe: a server that
    /// pg_ctl starts inherits the streams and would hold a pipe open for as long as it runs.
    @discardableResult
    private static func run(_ program: String, _ arguments: [String], asPostgres: Bool = true) throws -> String {
        let command = asPostgres && getuid() == 0 ? ["/usr/sbin/runuser", "-u", "postgres", "--", program] + arguments : [program] + arguments
        let outputPath = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-pg-run-\(UUID().uuidString)").path
        defer { unlink(outputPath) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else: a server started here lives as long as the process, and would otherwise
        // hold open every descriptor this process had at that moment (another thread's pipe to a
        // child, whose reader would then never see its end).
        floorgate_spawn_close_from(&actions, 3)
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawn(&pid, command[0], &actions, nil, &argv, environ)
        guard spawned == 0 else { throw ClusterError("cannot start \(command[0]): \(String(cString: strerror(spawned)))") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let printed = (try? String(contentsOfFile: outputPath, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, which Swift cannot import.
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw ClusterError("\(program) \(arguments.joined(separator: " ")) failed (status \(status)): \(printed)")
        }
        return printed
    }

    private static func freePort() throws -> Int {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(socket) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(socket, $0, length) == 0 && getsockname(socket, $0, &length) == 0 }
        }
        guard bound else { throw ClusterError("no free loopback port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    /// Why the cluster could not be used.
    public struct ClusterError: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }
}
