import FloorgateCore
import Synchronization

/// The signing dialogs the page has open: the page relays a signature attempt only for the
/// signer whose dialog it opened (`GET /signer` hands out the dialog's token), and only
/// `attemptsPerDialog` wrong passwords per dialog. Without this, a program on the station that
/// can reach the page (curl, a browser tab) could send wrong passwords for any user, the admin
/// included, as fast as the record answers. One dialog per user: opening another ends the first.
final class SigningDialogs: Sendable {
    /// Wrong passwords one dialog may send before it is closed (the record locks a user after 5).
    static let attemptsPerDialog = 3
    /// How long a dialog stays open without being used.
    static let lifetime: Duration = .seconds(300)

    private struct Dialog {
        var token: String
        var attemptsLeft: Int
        var opened: ContinuousClock.Instant
    }

    /// Why an attempt is not relayed.
    enum Refusal: Error, CustomStringConvertible {
        case noDialog
        case noAttemptsLeft

        var description: String {
            switch self {
            case .noDialog: "this signing dialog is no longer open (another was opened for this user, or it timed out): close it and start again"
            case .noAttemptsLeft: "too many wrong passwords in this dialog: close it and start again"
            }
        }
    }

    private let dialogs = Mutex<[String: Dialog]>([:])

    /// Opens a dialog for `login` (ending any other for that user) and returns its token.
    func open(for login: String) -> String {
        var generator = SystemRandomNumberGenerator()
        let token = DeviceEvent.hex((0..<16).map { _ in UInt8.random(in: .min ... .max, using: &generator) })
        dialogs.withLock { $0[login] = Dialog(token: token, attemptsLeft: Self.attemptsPerDialog, opened: .now) }
        return token
    }

    /// Checks that `token` is `login`'s open dialog with attempts left.
    func check(_ token: String, for login: String) throws(Refusal) {
        try dialogs.withLock { dialogs throws(Refusal) in
            guard let dialog = dialogs[login], dialog.token == token, ContinuousClock.now - dialog.opened < Self.lifetime else {
                throw .noDialog
            }
            guard dialog.attemptsLeft > 0 else { throw .noAttemptsLeft }
        }
    }

    /// The record refused the password sent in `login`'s dialog: one attempt fewer.
    func wrongPassword(_ token: String, for login: String) {
        dialogs.withLock { dialogs in
            guard dialogs[login]?.token == token else { return }
            dialogs[login]?.attemptsLeft -= 1
        }
    }

    /// The dialog signed: it is closed.
    func close(_ token: String, for login: String) {
        dialogs.withLock { dialogs in
            if dialogs[login]?.token == token { dialogs[login] = nil }
        }
    }
}
