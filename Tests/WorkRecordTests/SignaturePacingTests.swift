import FloorgateCore
import Foundation
import RecordProtocol
import Testing
@testable import WorkRecord

@Suite("Failed signatures slow the next attempts, per login and per peer user", .timeLimit(.minutes(2)))
struct SignaturePacingTests {
    @Test("the wait doubles from the first to the longest")
    func schedule() {
        let waits = (0...7).map { SignaturePacing.standard.wait(after: $0) }
        #expect(waits == [.zero, .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30), .seconds(30)])
        #expect(SignaturePacing.off.wait(after: 5) == .zero)
    }

    /// Completes step 10 of the example's open build as `login`, from `peerUser`: what the
    /// record answers (the step lacks its readings, so a signer the record accepts gets 1013).
    private static func complete(_ store: RecordStore, build: JSONValue, _ login: String, password: String? = nil, from peerUser: String)
        async -> RecordErrorCode?
    {
        let call = RecordCall(
            method: .stepComplete, params: withKey(["build_id": build, "signature": signature(login, password: password)]),
            peer: "\(peerUser) gid=1 pid=1", peerUser: peerUser)
        do {
            _ = try await store.perform(call)
            return nil
        } catch {
            return error.code
        }
    }

    @Test("a wrong password makes the login and the peer user wait; other logins and peers do not; after the wait the right one signs", arguments: RecordHarness.backends)
    func loginAndPeerWait(_ backend: RecordBackendKind) async throws {
        let pacing = SignaturePacing(first: .milliseconds(400), longest: .seconds(2))
        let (harness, client) = try await RecordHarness.approvedExample(backend) { $0.signaturePacing = pacing }
        let build = try await client.call("build.open", withKey(["serial": "SN-0003", "station": "bench-3", "operator": "olga"]))["build_id"] ?? .null
        let store = harness.store
        let failedAt = ContinuousClock.now
        #expect(await Self.complete(store, build: build, "olga", password: "guess-guess", from: "uid=2001") == .signatureRejected)
        // Olga's login waits, from any peer; peer 2001 waits, for any login. Neither is checked or counted.
        let soon = [
            await Self.complete(store, build: build, "olga", from: "uid=2002"),
            await Self.complete(store, build: build, "quinn", from: "uid=2001"),
        ]
        let refusedUnchecked = soon == [.signatureAttemptsSlowed, .signatureAttemptsSlowed]
        if ContinuousClock.now - failedAt < pacing.first {
            #expect(refusedUnchecked)
        }
        // Refused unchecked, they left the count as it was. (Under load they may come after the
        // wait: then olga's right password is checked and clears it.)
        if refusedUnchecked {
            #expect(try await harness.count(#"SELECT failed_attempts FROM "user" WHERE login = 'olga'"#) == 1)
        }
        // Another login from another peer is not held up.
        #expect(await Self.complete(store, build: build, "quinn", from: "uid=2003") == .roleNotPermitted)
        // After the wait the right password signs, and the streak ends: no wait after it.
        try await Task.sleep(for: pacing.first)
        #expect(await Self.complete(store, build: build, "olga", from: "uid=2002") == .stepIncomplete)
        #expect(try await harness.count(#"SELECT failed_attempts FROM "user" WHERE login = 'olga'"#) == 0)
        #expect(await Self.complete(store, build: build, "olga", from: "uid=2002") == .stepIncomplete)
        try await harness.stop()
    }

    @Test("ten wrong passwords sent at once count as one: the rest are refused unchecked, so nobody is locked out by a burst")
    func burstCountsOnce() async throws {
        let (harness, client) = try await RecordHarness.approvedExample { $0.signaturePacing = .standard }
        let build = try await client.call("build.open", withKey(["serial": "SN-0003", "station": "bench-3", "operator": "olga"]))["build_id"] ?? .null
        let store = harness.store
        let answers = await withTaskGroup(of: RecordErrorCode?.self) { group in
            for attacker in 0..<10 {
                // Ten connections of one local user (another peer each time, one user).
                group.addTask { await Self.complete(store, build: build, "olga", password: "guess-\(attacker)", from: "uid=2001") }
            }
            return await group.reduce(into: [RecordErrorCode?]()) { $0.append($1) }
        }
        #expect(answers.filter { $0 == .signatureRejected }.count == 1, "\(answers)")
        #expect(answers.filter { $0 == .signatureAttemptsSlowed }.count == 9, "\(answers)")
        #expect(try await harness.count(#"SELECT failed_attempts FROM "user" WHERE login = 'olga'"#) == 1)
        #expect(try await client.call("user.get", ["login": "olga"])["locked"] == .bool(false))
        try await harness.stop()
    }

    @Test("over the socket the wait is told in the record's words")
    func toldOverTheSocket() async throws {
        // A first wait long enough that a loaded machine cannot outlast it between two calls.
        let (harness, client) = try await RecordHarness.approvedExample { $0.signaturePacing = SignaturePacing(first: .seconds(60), longest: .seconds(60)) }
        let approve = { (signature: JSONValue) -> JSONValue in
            withKey(["part": "HX-200", "part_revision": "C", "operation": "010", "revision": "A", "signature": signature])
        }
        let wrong = approve(signature("ada", password: "guess-guess")), right = approve(signature("ada"))
        #expect(await recordError { _ = try await client.call("instruction.approve", wrong) } == .signatureRejected)
        do {
            _ = try await client.call("instruction.approve", right)
            Issue.record("an attempt right after a wrong one was checked")
        } catch {
            #expect(error.code == .signatureAttemptsSlowed)
            #expect(error.description.contains("try again in ") && error.description.contains(" s (not counted towards lockout)"), "\(error)")
        }
        try await harness.stop()
    }
}
