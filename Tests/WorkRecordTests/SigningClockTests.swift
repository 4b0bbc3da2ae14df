import FloorgateCore
import HostClock
import RecordProtocol
import Synchronization
import Testing
import WorkRecord

@Suite("Signing on a synchronized clock only, when the record is told so", .timeLimit(.minutes(1)))
struct SigningClockTests {
    @Test("the kernel says whether this host's clock is synchronized")
    func kernelAnswers() {
        let state = ClockSynchronization.current()
        #expect(state == .synchronized || state == .unsynchronized, "\(state)")
    }

    @Test("while the clock is not synchronized a signature is refused with 1064 and not counted; unsigned writes go on; synchronized again, it signs")
    func refusedWhileUnsynchronized() async throws {
        let clock = Mutex(ClockSynchronization.synchronized)
        let (harness, client) = try await RecordHarness.approvedExample { options in
            options.signingClock = .mustBeSynchronized { clock.withLock { $0 } }
        }
        let build = try await client.call("build.open", withKey(["serial": "SN-0003", "station": "bench-3", "operator": "olga"]))
        let buildID = try #require(build["build_id"]?.integerValue)
        let complete = withKey(["build_id": .integer(buildID), "signature": signature("olga")])
        clock.withLock { $0 = .unsynchronized }
        do {
            _ = try await client.call("step.complete", complete)
            Issue.record("signed on a clock that is not synchronized")
        } catch {
            #expect(error.code == .clockNotSynchronized && error.description.contains("not synchronized"), "\(error)")
        }
        #expect(try await harness.count(#"SELECT failed_attempts FROM "user" WHERE login = 'olga'"#) == 0)
        _ = try await client.call("result.record", reading(build: buildID, "12.004"))  // no signature: recorded
        clock.withLock { $0 = .synchronized }
        // The signer is accepted again; the step itself still lacks readings.
        #expect(await recordError { _ = try await client.call("step.complete", withKey(["build_id": .integer(buildID), "signature": signature("olga")])) } == .stepIncomplete)
        try await harness.stop()
    }
}
