import Glibc

/// The SQLite record's writer lock: an exclusive `flock` on the record file, held by the one
/// process that writes it (its record server, or a command working on the file with `--db`)
/// from before its connection opens until after it closes. A second writer is refused (after 2 s),
/// naming the file, instead of queueing behind the first or working beside a writer that
/// remembers the record between requests (`WriterMemory`). Readers (`verify`, `dhr` on a copy)
/// take no lock. SQLite's own locks are POSIX record locks, which `flock` does not touch.
final class RecordFileLock: Sendable {
    /// Tries at taking the lock, 50 ms apart (2 s in all), before a second writer is refused.
    private static let attempts = 40

    private let descriptor: Int32

    /// Takes the lock on `path`, creating the file if it does not exist yet.
    init(path: String) throws(RecordStoreError) {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o640)
        guard descriptor >= 0 else {
            throw RecordStoreError(.failed, "cannot open the record \(path): \(String(cString: strerror(errno)))")
        }
        // A lock just released can still be held for a moment by a child process this process
        // forked (the descriptor lives in it until its exec closes it): a second writer is
        // refused only once the lock stays taken for a while.
        var attempts = 0
        while flock(descriptor, LOCK_EX | LOCK_NB) != 0 {
            let reason = errno
            attempts += 1
            if reason == EWOULDBLOCK && attempts < Self.attempts {
                usleep(50_000)
                continue
            }
            close(descriptor)
            guard reason == EWOULDBLOCK else {
                throw RecordStoreError(.failed, "cannot lock the record \(path): \(String(cString: strerror(reason)))")
            }
            throw RecordStoreError(
                .locked,
                "\(path) is open for writing in another process (a running `floorgate record serve`?): send the request through its socket, or stop it first")
        }
        self.descriptor = descriptor
    }

    /// Releases the lock: only once the record's connection is closed, since closing a file
    /// descriptor drops every POSIX lock the process holds on that file, SQLite's included.
    deinit {
        close(descriptor)
    }
}
