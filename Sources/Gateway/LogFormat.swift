import Glibc

/// How Floorgate writes its log (`--log-format`).
public enum LogFormat: String, Sendable, CaseIterable {
    /// `journal` when standard error is the journal's stream (systemd set JOURNAL_STREAM to its
    /// device and inode), `text` otherwise.
    case auto
    /// One line per event on standard error, for a terminal.
    case text
    /// Native journal entries: the priority and each metadata key as fields, sent to journald's
    /// socket; a line `journald` cannot take there goes to standard error with its `<N>` prefix.
    case journal
    /// One JSON object per line on standard error, for log shippers.
    case json

    /// The form `auto` means here: `journal` when `journalStream` (JOURNAL_STREAM, `device:inode`)
    /// names the file `lines` (the descriptor log lines go to) is, `text` otherwise. Other
    /// formats are themselves.
    public func resolved(journalStream: String?, lines: Int32 = 2) -> LogFormat {
        guard self == .auto else { return self }
        guard let journalStream, let named = Self.deviceAndInode(journalStream) else { return .text }
        var status = stat()
        guard fstat(lines, &status) == 0 else { return .text }
        return named == (UInt64(status.st_dev), UInt64(status.st_ino)) ? .journal : .text
    }

    /// `device:inode` as systemd writes JOURNAL_STREAM (both decimal), or nil.
    static func deviceAndInode(_ text: String) -> (UInt64, UInt64)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, let device = UInt64(parts[0]), let inode = UInt64(parts[1]) else { return nil }
        return (device, inode)
    }
}
