import Crypto
import FloorgateCore
import RecordProtocol

/// A picture an instruction step shows: PNG, JPEG or SVG, at most 512 KiB, named by the SHA-256
/// of its bytes. The hash is what a revision's content holds, so an approved revision's pictures
/// cannot change; the bytes are kept once, whatever refers to them.
struct StepPicture: Sendable, Equatable {
    /// The largest picture the record takes (its request lines are capped at 1 MiB, and base64
    /// makes 4 bytes of 3).
    static let largest = 512 * 1024

    enum ContentType: String, Sendable, CaseIterable {
        case png = "image/png"
        case jpeg = "image/jpeg"
        case svg = "image/svg+xml"
    }

    var contentType: ContentType
    var bytes: [UInt8]

    /// The picture's name: SHA-256 of its bytes, in lowercase hex.
    var hash: String { Self.hash(bytes) }

    static func hash(_ bytes: [UInt8]) -> String { DeviceEvent.hex(Array(SHA256.hash(data: bytes))) }

    /// Checks `bytes` are what `contentType` says and may be shown: within the size limit, the
    /// format's signature at their start, and an SVG only of allowed elements and attributes.
    init(contentType name: String, bytes: [UInt8]) throws(WorkRecordError) {
        guard let contentType = ContentType(rawValue: name) else {
            throw WorkRecordError(.invalidParams, "params.content_type '\(name)' is not one of: \(ContentType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard !bytes.isEmpty else { throw WorkRecordError(.invalidParams, "params.data holds no bytes") }
        guard bytes.count <= Self.largest else {
            throw WorkRecordError(.pictureTooLarge, "the picture is \(bytes.count) bytes; the record takes pictures of at most \(Self.largest) bytes (512 KiB): make it smaller")
        }
        switch contentType {
        case .png:
            guard bytes.starts(with: [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) else {
                throw WorkRecordError(.pictureRefused, "the bytes are not a PNG file (no PNG signature)")
            }
        case .jpeg:
            guard bytes.starts(with: [0xFF, 0xD8, 0xFF]) else { throw WorkRecordError(.pictureRefused, "the bytes are not a JPEG file (no JPEG signature)") }
        case .svg:
            do {
                try SVGAllowList.check(bytes)
            } catch {
                throw WorkRecordError(.pictureRefused, "the SVG picture is refused: \(error.reason)")
            }
        }
        self.contentType = contentType
        self.bytes = bytes
    }
}
