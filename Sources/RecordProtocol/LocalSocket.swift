import Glibc

/// A Unix socket file Floorgate serves on (the record's, the gateway's status): whether a
/// process already answers on it, and its access.
public enum LocalSocket {
    /// Whether a process accepts connections on the Unix socket at `path`.
    public static func answers(_ path: String) -> Bool {
        let descriptor = connect(path)
        guard descriptor >= 0 else { return false }
        close(descriptor)
        return true
    }

    /// A stream connection to the Unix socket at `path` (close-on-exec): its descriptor, or -1
    /// with errno set (ENAMETOOLONG for a path that does not fit a socket address).
    public static func connect(_ path: String) -> Int32 {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        guard bytes.count < MemoryLayout.size(ofValue: address.sun_path) else {
            errno = ENAMETOOLONG
            return -1
        }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return -1 }
        let connected = withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        guard connected == 0 else {
            let failure = errno
            close(descriptor)
            errno = failure
            return -1
        }
        return descriptor
    }

    /// Gives the socket file its access: mode 0660 with group `floorgate` where that group
    /// exists, else 0600 for the running user (a developer's machine, the demo). Returns the
    /// warning to log in the second case; `serving` names the socket in it.
    public static func restrictAccess(_ path: String, serving: String) -> String? {
        if let group = getgrnam("floorgate"), chown(path, uid_t.max, group.pointee.gr_gid) == 0 {
            chmod(path, 0o660)
            return nil
        }
        chmod(path, 0o600)
        return "group 'floorgate' does not exist (or cannot be given to the socket): \(serving) is 0600, usable by this user only; create it with `groupadd floorgate` and add the station's users to it"
    }
}
