import FixtureSupport
import Foundation
import Gateway
import Testing
import StationPage

/// The station page beyond loopback: over TLS with the site's certificate, and only after a
/// login the record checks. Driven with curl, as a browser on another PC would reach it.
@Suite("Station page over TLS, with a login", .timeLimit(.minutes(2)), .serialized)
struct PageTLSTests {
    /// A self-signed certificate for `name` and its key, made with openssl in `directory`.
    static func certificate(for name: String, in directory: String) throws -> StationConfiguration.Page.TLSFiles {
        let files = StationConfiguration.Page.TLSFiles(certificate: directory + "/\(name).pem", key: directory + "/\(name).key")
        let made = try Program.run("/usr/bin/openssl", [
            "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
            "-keyout", files.key, "-out", files.certificate, "-subj", "/CN=\(name)", "-addext", "subjectAltName=DNS:\(name)",
        ])
        guard made.status == 0 else { throw CertificateNotMade(output: made.output) }
        return files
    }

    struct CertificateNotMade: Error {
        var output: String
    }

    /// curl against the page, off the tests' cooperative threads: `-w` prints the status last.
    static func curl(_ arguments: [String]) async throws -> (status: Int, output: String) {
        let (_, output) = try await offThePool { try Program.run("/usr/bin/curl", ["-sk", "--max-time", "10", "-w", "\n%{http_code}"] + arguments) }
        let status = Int(output.split(separator: "\n").last ?? "") ?? 0
        return (status, output)
    }

    @Test("a wrong or unmatched certificate or key is named with its key and file before anything listens")
    func badFiles() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let station = try Self.certificate(for: "station-3.test", in: directory)
        let other = try Self.certificate(for: "other.test", in: directory)
        #expect(throws: PageTLSError.self) { try PageTLS.load(.init(certificate: directory + "/missing.pem", key: station.key)) }
        do {
            _ = try PageTLS.load(.init(certificate: station.certificate, key: other.key))
            Issue.record("a key that is not the certificate's was taken")
        } catch {
            #expect(error.key == "tls_key" && error.description.contains(other.key) && error.description.contains("does not go with"), "\(error)")
        }
        do {
            _ = try PageTLS.load(.init(certificate: station.key, key: station.key))
            Issue.record("a key file was taken for a certificate")
        } catch {
            #expect(error.description.hasPrefix("[page] tls_certificate = \(station.key): "), "\(error)")
        }
    }

    @Test("over TLS the page asks for a login; a wrong password is refused in the record's words; a right one gives a session cookie and the page")
    func login() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("floorgate-tls-\(UUID().uuidString.prefix(8))").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let tls = try PageTLS.load(try Self.certificate(for: "station-3.test", in: directory))
        let station = try await StationPageTests.PageStation(tls: tls)
        defer { Task { try await station.stop() } }
        let base = "https://127.0.0.1:\(station.port)"

        let first = try await Self.curl(["-o", "/dev/null", base + "/"])
        #expect(first.status == 303, "\(first.output)")
        let form = try await Self.curl([base + "/login"])
        #expect(form.status == 200 && form.output.contains("<form method=\"post\" action=\"/login\">"), "\(form.output)")
        let action = try await Self.curl(["-H", "content-type: application/json", "-d", "{}", base + "/actions/step-complete"])
        #expect(action.status == 401, "an action without a session: \(action.output)")

        let wrong = try await Self.curl(["-d", "user=olga", "-d", "password=guess", base + "/login"])
        #expect(wrong.status == 401 && wrong.output.contains("record error 1007"), "\(wrong.output)")
        let jar = directory + "/cookies"
        let right = try await Self.curl(["-c", jar, "-D", "-", "-d", "user=olga", "-d", "password=bench-olga-1", base + "/login"])
        #expect(right.status == 303, "\(right.output)")
        let cookie = right.output.split(separator: "\r\n").first { $0.lowercased().hasPrefix("set-cookie: floorgate_session=") } ?? ""
        #expect(cookie.contains("Secure") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"), "\(cookie)")
        let page = try await Self.curl(["-b", jar, base + "/"])
        #expect(page.status == 200 && page.output.contains("No build open"), "\(page.output.prefix(300))")

        // The certificate's name is the page's too (its own login: the cookie was given to
        // 127.0.0.1); another name is not (421).
        let byName = try await Self.curl(["-b", jar, "--resolve", "station-3.test:\(station.port):127.0.0.1", "https://station-3.test:\(station.port)/"])
        #expect(byName.status == 303)
        let rebound = try await Self.curl(["-b", jar, "--resolve", "evil.test:\(station.port):127.0.0.1", "https://evil.test:\(station.port)/"])
        #expect(rebound.status == 421)
        // Plain HTTP gets nothing from a TLS page.
        let plain = try await Self.curl(["http://127.0.0.1:\(station.port)/"])
        #expect(plain.status != 200)
    }
}
