import FloorgateCore
import Foundation
import RecordProtocol

/// `media.put` and `media.get`: the pictures instruction steps show, kept once by content hash.
///
/// The audited `media` row holds the hash, type and size; the bytes are in `media_content`,
/// outside the audit chain, and are checked against their hash whenever they are read.
enum MediaMethods {
    /// Stores one picture (base64 in `data`); a picture already stored is answered again.
    static func put(_ context: MethodContext) async throws -> RecordOutcome {
        let text = try context.params.string("data")
        guard text.utf8.count <= (StepPicture.largest / 3 + 1) * 4 + 4 else {
            throw WorkRecordError(.pictureTooLarge, "the picture is over \(StepPicture.largest) bytes (512 KiB): make it smaller")
        }
        guard let data = Data(base64Encoded: text) else { throw WorkRecordError(.invalidParams, "params.data must be base64") }
        let picture = try StepPicture(contentType: try context.params.string("content_type"), bytes: Array(data))
        let hash = picture.hash
        if let stored = try await context.transaction.row("SELECT * FROM media WHERE hash = ?", hash) {
            return RecordOutcome(.object(answer(stored, stored: false)))
        }
        try await context.transaction.execute("INSERT INTO media_content (hash, bytes) VALUES (?, ?)", hash, Data(picture.bytes))
        let row = try await context.writer.insertRow(
            "media",
            ["hash": hash, "content_type": picture.contentType.rawValue, "size": Int64(picture.bytes.count), "stored_at": RecordClock.timestamp()],
            action: "media.put")
        return RecordOutcome(.object(answer(row, stored: true)))
    }

    /// A stored picture: its type, size and bytes (base64), checked against its hash.
    static func get(_ context: MethodContext) async throws -> RecordOutcome {
        let hash = try context.params.string("hash")
        guard let row = try await context.transaction.row("SELECT * FROM media WHERE hash = ?", hash),
              let content = try await context.transaction.row("SELECT bytes FROM media_content WHERE hash = ?", hash)
        else { throw WorkRecordError(.notFound, "no picture with hash \(hash)") }
        let bytes = Array(content["bytes"] as Data)
        guard StepPicture.hash(bytes) == hash else {
            throw WorkRecordError(.internalError, "the stored bytes of picture \(hash) do not match its hash: the record was altered")
        }
        var members = answer(row, stored: false)
        members["data"] = .string(Data(bytes).base64EncodedString())
        return RecordOutcome(.object(members))
    }

    /// Refuses a revision whose steps show a picture the record does not hold.
    static func requireStored(_ content: InstructionContent, _ transaction: any RecordTransaction, path: String) async throws {
        for step in content.steps {
            for picture in step.pictures where try await transaction.row("SELECT id FROM media WHERE hash = ?", picture.hash) == nil {
                throw WorkRecordError(.notFound, "\(path): step \(step.key) shows picture \(picture.hash), which the record does not hold: put it with media.put first")
            }
        }
    }

    private static func answer(_ row: RecordRow, stored: Bool) -> [String: JSONValue] {
        [
            "media_id": .integer(row["id"]), "hash": .string(row["hash"]), "content_type": .string(row["content_type"]),
            "size": .integer(row["size"]), "stored": .bool(stored),
        ]
    }
}
