import Glibc

/// Whether this process may open a device node for reading and writing, and if not, why, in
/// words a technician can act on.
public struct NodeAccess: Sendable, Hashable {
    public var canOpen: Bool
    /// `rw: group floorgate, mode 0660`, or why not.
    public var detail: String

    public init(canOpen: Bool, detail: String) {
        self.canOpen = canOpen
        self.detail = detail
    }

    public static func check(_ node: String) -> NodeAccess {
        var status = stat()
        guard stat(node, &status) == 0 else {
            return NodeAccess(canOpen: false, detail: "cannot stat \(node): \(String(cString: strerror(errno)))")
        }
        let mode = String(status.st_mode & 0o777, radix: 8)
        let group = getgrgid(status.st_gid).map { String(cString: $0.pointee.gr_name) } ?? String(status.st_gid)
        let owner = getpwuid(status.st_uid).map { String(cString: $0.pointee.pw_name) } ?? String(status.st_uid)
        let where_ = "owner \(owner), group \(group), mode 0\(mode)"
        if access(node, R_OK | W_OK) == 0 {
            return NodeAccess(canOpen: true, detail: "yes (\(where_))")
        }
        let inGroup = memberOf(status.st_gid)
        let hint = inGroup
            ? "the group may not write"
            : "add this user to group '\(group)' (usermod -aG \(group) USER, then log in again)"
        return NodeAccess(canOpen: false, detail: "no (\(where_)): \(hint)")
    }

    private static func memberOf(_ group: gid_t) -> Bool {
        if getegid() == group { return true }
        let count = getgroups(0, nil)
        guard count > 0 else { return false }
        var groups = [gid_t](repeating: 0, count: Int(count))
        let filled = getgroups(count, &groups)
        return groups.prefix(Int(max(0, filled))).contains(group)
    }
}
