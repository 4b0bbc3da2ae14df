import Foundation
public import HostClock
import RecordProtocol
import Synchronization

/// How failed signatures slow the next attempts: after the n-th failure in a row, the next
/// attempt waits `first × 2^(n-1)`, at most `longest`. Counted per login and per peer user, so
/// one who guesses is slowed whichever login he tries, and a login under attack is slowed
/// whoever tries it; lockout (five in a row, 15 minutes) still applies on top.
public struct SignaturePacing: Sendable {
    public var first: Duration
    public var longest: Duration

    public init(first: Duration, longest: Duration) {
        self.first = first
        self.longest = longest
    }

    /// 1 s after a first failure, doubling to 30 s: an operator who mistyped waits a moment; a
    /// guesser gets two tries a minute.
    public static let standard = SignaturePacing(first: .seconds(1), longest: .seconds(30))
    /// No wait at all (for tests that count attempts towards lockout).
    public static let off = SignaturePacing(first: .zero, longest: .zero)

    /// The wait after `failures` failed attempts in a row.
    func wait(after failures: Int) -> Duration {
        guard failures > 0, first > .zero else { return .zero }
        var wait = first
        for _ in 1..<min(failures, 32) where wait < longest { wait *= 2 }
        return min(wait, longest)
    }
}

/// Whether signing waits for the host's clock to be synchronized (`record serve
/// --require-synchronized-clock`): a signature carries the host's time.
public enum SigningClock: Sendable {
    /// Signatures are taken whatever the clock's state.
    case unchecked
    /// Signatures are refused (`1064`) while `state()` is not synchronized.
    case mustBeSynchronized(state: @Sendable () -> ClockSynchronization = ClockSynchronization.current)

    /// The refusal a signature gets now, or nil.
    func refusal() -> WorkRecordError? {
        guard case .mustBeSynchronized(let read) = self, case let state = read(), !state.isSynchronized else { return nil }
        return WorkRecordError(
            .clockNotSynchronized,
            "the record's host clock is \(state); signatures carry its time, so none is taken until it is synchronized")
    }
}

/// The failed-signature streaks of logins and peer users, in memory (a restart forgets them;
/// the lockout count is in the record). Attempts that come before their wait is over are
/// refused without a password check and without counting towards lockout.
final class SignatureThrottle: Sendable {
    /// One login's or peer user's failures in a row and when the next attempt may come.
    private struct Streak {
        var failures: Int
        var lastFailure: ContinuousClock.Instant
        var notBefore: ContinuousClock.Instant
    }

    /// Streaks kept at most: a guesser naming ever new logins cannot grow this without bound.
    static let capacity = 4096
    /// A streak this old is forgotten: the next failure counts as a first again.
    static let memory: Duration = .seconds(15 * 60)

    let pacing: SignaturePacing
    private let streaks = Mutex<[String: Streak]>([:])

    init(pacing: SignaturePacing) {
        self.pacing = pacing
    }

    /// Throws `signatureAttemptsSlowed` when `login` or `peerUser` must still wait.
    func admit(login: String, peerUser: String) throws(WorkRecordError) {
        let now = ContinuousClock.now
        let waits = streaks.withLock { streaks in
            [("user '\(login)'", streaks["login " + login]), ("\(peerUser)", streaks["peer " + peerUser])]
                .compactMap { who, streak in streak.flatMap { $0.notBefore > now ? (who, $0.failures, $0.notBefore - now) : nil } }
        }
        guard let (who, failures, wait) = waits.max(by: { $0.2 < $1.2 }) else { return }
        let seconds = max(1, Int((wait / .seconds(1)).rounded(.up)))
        throw WorkRecordError(
            .signatureAttemptsSlowed,
            "signature attempts by \(who) are slowed after \(failures) wrong one\(failures == 1 ? "" : "s"): try again in \(seconds) s (not counted towards lockout)")
    }

    /// A wrong password (or a locked user): both streaks grow and the next attempts wait.
    func failed(login: String, peerUser: String) {
        let now = ContinuousClock.now
        streaks.withLock { streaks in
            for key in ["login " + login, "peer " + peerUser] {
                var streak = streaks[key].flatMap { now - $0.lastFailure < Self.memory ? $0 : nil }
                    ?? Streak(failures: 0, lastFailure: now, notBefore: now)
                streak.failures += 1
                streak.lastFailure = now
                streak.notBefore = now + pacing.wait(after: streak.failures)
                streaks[key] = streak
            }
            if streaks.count > Self.capacity { Self.prune(&streaks, now: now) }
        }
    }

    /// A signature accepted: the login and the peer user start afresh.
    func succeeded(login: String, peerUser: String) {
        streaks.withLock { streaks in
            streaks["login " + login] = nil
            streaks["peer " + peerUser] = nil
        }
    }

    /// Forgets streaks past memory, then, if still over capacity, the oldest ones.
    private static func prune(_ streaks: inout [String: Streak], now: ContinuousClock.Instant) {
        streaks = streaks.filter { now - $0.value.lastFailure < memory }
        guard streaks.count > capacity else { return }
        let oldest = streaks.sorted { $0.value.lastFailure < $1.value.lastFailure }.prefix(streaks.count - capacity)
        for (key, _) in oldest { streaks[key] = nil }
    }
}
