import FloorgateCore
import Foundation
import RecordProtocol
import Testing
import WorkRecord

@Suite("Accounts: password rules, and answers that do not tell which logins exist", .timeLimit(.minutes(2)))
struct AccountTests {
    @Test("a password of one repeated character, or the login itself, is refused with nothing stored", arguments: RecordHarness.backends)
    func passwordRules(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let users = try await harness.count(#"SELECT COUNT(*) FROM "user""#)
        for password in ["aaaaaaaaaa", "TessaTech", "short"] {
            let refused = await recordError {
                _ = try await client.call("record.import", withKey([
                    "users": [["login": "tessatech", "name": "Tessa Tech", "roles": ["operator"], "password": .string(password)]],
                    "signature": signature("root-admin"),
                ]))
            }
            #expect(refused == .invalidParams, "\(password)")
        }
        #expect(try await harness.count(#"SELECT COUNT(*) FROM "user""#) == users)
        try await harness.stop()
    }

    @Test("a login the record does not hold gets the same answers as a wrong password, and is locked out after as many", arguments: RecordHarness.backends)
    func unknownLogins(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        func complete(_ signer: JSONValue) async -> (RecordErrorCode?, String) {
            do {
                _ = try await client.call("step.complete", withKey(["build_id": build["build_id"] ?? .null, "signature": signer]))
                return (nil, "")
            } catch let RecordCallError.refused(code, message) {
                return (RecordErrorCode(rawValue: Int(code)), message.replacingOccurrences(of: "ghost", with: "LOGIN").replacingOccurrences(of: "olga", with: "LOGIN"))
            } catch {
                return (nil, "\(error)")
            }
        }
        var known: [(RecordErrorCode?, String)] = [], unknown: [(RecordErrorCode?, String)] = []
        for _ in 0..<6 {
            known.append(await complete(signature("olga", password: "guess-guess")))
            unknown.append(await complete(signature("ghost", password: "guess-guess")))
        }
        #expect(known.map(\.0) == [.signatureRejected, .signatureRejected, .signatureRejected, .signatureRejected, .userLocked, .userLocked])
        #expect(unknown.map(\.0) == known.map(\.0))
        // Word for word, once the login is masked, and with no count of attempts that a login exists.
        #expect(unknown.prefix(4).map(\.1) == known.prefix(4).map(\.1) && known[0].1 == "signature rejected: user id or password is wrong")
        #expect(unknown[4].1.contains("is now locked until") && unknown[5].1.contains("is locked until"))
        try await harness.stop()
    }

    @Test("a deactivated user signs nothing more, answered as a wrong password; their signatures stay; an admin deactivates, not themselves, once", arguments: RecordHarness.backends)
    func deactivation(_ backend: RecordBackendKind) async throws {
        let (harness, client) = try await RecordHarness.approvedExample(backend)
        let build = try await client.call("build.open", withKey(["serial": "SN-0001", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(build["build_id"]?.integerValue)
        try await completeExampleBuild(client, build: buildID)  // Olga signs its three steps
        let deactivate = { (login: String, signer: JSONValue) in withKey(["login": .string(login), "reason": "left the company", "signature": signer]) }
        #expect(await recordError { _ = try await client.call("user.deactivate", deactivate("olga", signature("quinn"))) } == .roleNotPermitted)
        #expect(await recordError { _ = try await client.call("user.deactivate", deactivate("root-admin", signature("root-admin"))) } == .separationOfDuties)
        let done = try await client.call("user.deactivate", deactivate("olga", signature("root-admin")))
        #expect(done["active"] == false)
        #expect(await recordError { _ = try await client.call("user.deactivate", deactivate("olga", signature("root-admin"))) } == .conflict)
        #expect(try await client.call("user.get", ["login": "olga"])["active"] == false)
        #expect(try await client.call("user.get", ["login": "quinn"])["active"] == true)
        // The right password no longer signs; her three step signatures stand in the DHR.
        let second = try await client.call("build.open", withKey(["serial": "SN-0002", "station": "bench-3", "operator": "quinn"]))
        #expect(await recordError {
            _ = try await client.call("step.complete", withKey(["build_id": second["build_id"] ?? .null, "signature": signature("olga")]))
        } == .signatureRejected)
        let dhr = try await client.call("dhr.export", ["serial": "SN-0001"])
        #expect((dhr["signatures"]?.arrayValue ?? []).filter { $0["login"] == "olga" || $0["user"] == "olga" }.count == 3)
        try await harness.stop()
        #expect(try await harness.verifyFile().problem == nil)
    }
}
