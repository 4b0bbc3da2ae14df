// Curve25519's keys are immutable values over bytes; this swift-crypto does not yet mark them Sendable.
@preconcurrency import Crypto
import FloorgateCore
import Foundation
import Glibc

/// Why a key, a keys file or an anchor file cannot be used, naming the file and line.
public struct AuditKeyError: Error, Sendable, CustomStringConvertible {
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// A record server's Ed25519 key: it signs every audit entry that server appends, so an entry
/// written by anyone else (an insider editing the database with recomputed hashes) carries no
/// signature a registered key accepts. Kept in a file of its own, outside the database, readable
/// only by the record's service user.
public struct RecordServerKey: Sendable {
    private let privateKey: Curve25519.Signing.PrivateKey

    /// The public half, hex: what an admin registers and `verify --keys` reads.
    public var publicKey: String { DeviceEvent.hex(privateKey.publicKey.rawRepresentation) }

    /// The key's short name in audit entries: the first 16 hex digits of SHA-256 over the public half.
    public var keyID: String { AuditPublicKeys.keyID(of: privateKey.publicKey.rawRepresentation) }

    /// The key file's first line: what the file is.
    private static let heading = "# Floorgate record server key (Ed25519). Readable by the record's service user only; never copy it."

    private init(_ privateKey: Curve25519.Signing.PrivateKey) {
        self.privateKey = privateKey
    }

    /// A key made for a test or a benchmark, kept in memory only.
    public static func ephemeral() -> RecordServerKey { RecordServerKey(.init()) }

    /// The signature of the entry whose hash is `hash`, hex.
    func sign(hash: String) throws -> String {
        DeviceEvent.hex(try privateKey.signature(for: Data(hash.utf8)))
    }

    /// Reads the key at `path`; refused when the file can be read by anyone but its owner.
    public static func load(path: String) throws(AuditKeyError) -> RecordServerKey {
        var status = stat()
        guard stat(path, &status) == 0 else { throw AuditKeyError("\(path): no record server key there (create one with `floorgate record init --key \(path)`)") }
        guard status.st_mode & 0o077 == 0 else {
            throw AuditKeyError("\(path): the record server key is readable by others (mode \(String(status.st_mode & 0o777, radix: 8))): `chmod 600 \(path)` and make a new key if others read it")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw AuditKeyError("\(path): cannot read the record server key") }
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: " ")
            guard fields.first == "ed25519-private" else { continue }
            guard fields.count == 2, let bytes = DeviceEvent.bytes(fromHex: fields[1]), bytes.count == 32,
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: bytes)
            else { throw AuditKeyError("\(path):\(number + 1): not 'ed25519-private' and 64 hex digits") }
            return RecordServerKey(key)
        }
        throw AuditKeyError("\(path): no 'ed25519-private' line: not a record server key")
    }

    /// Makes a new key at `path` (mode 0600); refused when a file is there already.
    public static func create(path: String) throws(AuditKeyError) -> RecordServerKey {
        let key = RecordServerKey(.init())
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else {
            throw AuditKeyError("\(path): cannot create the record server key: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        let text = "\(heading)\ned25519-private \(DeviceEvent.hex(key.privateKey.rawRepresentation))\n"
        let written = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count, fsync(descriptor) == 0 else {
            unlink(path)
            throw AuditKeyError("\(path): cannot write the record server key: \(String(cString: strerror(errno)))")
        }
        return key
    }

    /// The key at `path`, made there first when no file is there.
    public static func loadOrCreate(path: String) throws(AuditKeyError) -> (key: RecordServerKey, created: Bool) {
        if access(path, F_OK) != 0 { return (try create(path: path), true) }
        return (try load(path: path), false)
    }

    /// Where a SQLite record's server key is kept unless told otherwise: beside the file.
    public static func defaultPath(sqlite path: String) -> String { path + ".key" }
}

/// The record servers' registered public keys, as a keys file lists them: one per line,
/// `ed25519 HEX NAME`, `#` starting a comment. `floorgate record keys export` writes one.
public struct AuditPublicKeys: Sendable {
    /// Keys by key id.
    private var keys: [String: (key: Curve25519.Signing.PublicKey, name: String)] = [:]

    public init() {}

    /// The key id of a public key's raw bytes.
    static func keyID(of publicKey: some DataProtocol) -> String {
        String(DeviceEvent.hex(Array(SHA256.hash(data: Array(publicKey)))).prefix(16))
    }

    /// An Ed25519 public key written as 64 hex digits, and its key id; nil when `hex` is not one.
    static func publicKey(hex: some StringProtocol) -> (key: Curve25519.Signing.PublicKey, id: String)? {
        guard let bytes = DeviceEvent.bytes(fromHex: hex), bytes.count == 32,
              let key = try? Curve25519.Signing.PublicKey(rawRepresentation: bytes)
        else { return nil }
        return (key, keyID(of: bytes))
    }

    /// Reads a keys file's text; `file` names it in errors.
    public init(parsing text: String, file: String) throws(AuditKeyError) {
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = content.split(separator: " ", maxSplits: 2)
            guard !fields.isEmpty else { continue }
            guard fields.count >= 2, fields[0] == "ed25519", let listed = Self.publicKey(hex: fields[1]) else {
                throw AuditKeyError("\(file):\(number + 1): not 'ed25519', 64 hex digits and a name")
            }
            keys[listed.id] = (listed.key, fields.count > 2 ? String(fields[2]).trimmingCharacters(in: .whitespaces) : "")
        }
        guard !keys.isEmpty else { throw AuditKeyError("\(file): lists no key") }
    }

    /// How many keys are listed.
    public var count: Int { keys.count }

    /// Whether `signature` (hex) over `hash` was made by the listed key `keyID`; nil when it
    /// was, else why not.
    func problem(keyID: String?, signature: String?, hash: String) -> String? {
        guard let keyID, let signature else { return "is not signed by a record server" }
        guard let listed = keys[keyID] else { return "is signed by key \(keyID), which is not a registered record server's" }
        guard let bytes = DeviceEvent.bytes(fromHex: signature), listed.key.isValidSignature(bytes, for: Data(hash.utf8)) else {
            return "has a signature that key \(keyID) (\(listed.name)) did not make"
        }
        return nil
    }
}

/// One head of the audit chain written outside the database: the newest entry's place, hash and
/// time. Anchors only ever get appended; `verify --anchors` checks that the chain still passes
/// through every one (nothing before an anchor rewritten, nothing cut off after it).
public struct AuditAnchor: Sendable, Hashable {
    public var seq: Int64
    public var hash: String
    public var at: String

    /// The anchor as a line of an anchor file: `SEQ HASH AT`.
    public var line: String { "\(seq) \(hash) \(at)" }

    /// The anchors of an anchor file's text; `file` names it in errors.
    public static func parse(_ text: String, file: String) throws(AuditKeyError) -> [AuditAnchor] {
        var anchors: [AuditAnchor] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let fields = line.split(separator: " ")
            guard !fields.isEmpty, fields[0].first != "#" else { continue }
            guard fields.count == 3, let seq = Int64(fields[0]), seq >= 0, fields[1].count == 64, DeviceEvent.bytes(fromHex: fields[1]) != nil else {
                throw AuditKeyError("\(file):\(number + 1): not 'SEQ HASH TIME' (an anchor line)")
            }
            anchors.append(AuditAnchor(seq: seq, hash: fields[1].lowercased(), at: String(fields[2])))
        }
        guard !anchors.isEmpty else { throw AuditKeyError("\(file): holds no anchor") }
        return anchors
    }

    /// Appends this anchor to the file at `path` (made 0644 if missing) and waits for the disk.
    public func append(to path: String) throws(AuditKeyError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else { throw AuditKeyError("\(path): cannot open the anchor file: \(String(cString: strerror(errno)))") }
        defer { close(descriptor) }
        let text = line + "\n"
        let written = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, $0.count - 1) }
        guard written == text.utf8.count, fsync(descriptor) == 0 else {
            throw AuditKeyError("\(path): cannot write the anchor: \(String(cString: strerror(errno)))")
        }
    }
}
