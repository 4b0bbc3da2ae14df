import FloorgateCore
import Foundation
import RecordProtocol

/// Pictures named by file in an import document or a redline's steps
/// (`"pictures": [{"file": "bore.png", "caption": "…"}]`, the path relative to the JSON file):
/// each is put into the record (`media.put`) and named by the hash the record answers.
struct StepPictureFiles {
    /// The directory the JSON file is in.
    let directory: URL
    let target: RecordTarget

    /// `steps` with every picture file replaced by its hash; `path` names the array in errors.
    func resolve(steps: JSONValue, path: String) async throws -> JSONValue {
        guard case .array(let elements) = steps else { return steps }
        var resolved: [JSONValue] = []
        for (index, step) in elements.enumerated() {
            guard case .object(var members) = step, case .array(let pictures)? = members["pictures"] else {
                resolved.append(step)
                continue
            }
            var named: [JSONValue] = []
            for (pictureIndex, picture) in pictures.enumerated() {
                guard case .object(var fields) = picture, let file = fields["file"]?.stringValue else {
                    named.append(picture)
                    continue
                }
                let place = "\(path)[\(index)].pictures[\(pictureIndex)]"
                fields["file"] = nil
                fields["hash"] = try await put(file, named: place)
                named.append(.object(fields))
            }
            members["pictures"] = .array(named)
            resolved.append(.object(members))
        }
        return .array(resolved)
    }

    /// An import document with the pictures of every instruction's steps resolved.
    func resolve(document: JSONValue) async throws -> JSONValue {
        guard case .object(var members) = document, case .array(let instructions)? = members["instructions"] else { return document }
        var resolved: [JSONValue] = []
        for (index, instruction) in instructions.enumerated() {
            guard case .object(var fields) = instruction, let steps = fields["steps"] else {
                resolved.append(instruction)
                continue
            }
            fields["steps"] = try await resolve(steps: steps, path: "instructions[\(index)].steps")
            resolved.append(.object(fields))
        }
        members["instructions"] = .array(resolved)
        return .object(members)
    }

    private func put(_ file: String, named path: String) async throws -> JSONValue {
        let url = URL(fileURLWithPath: file, relativeTo: directory)
        let type = switch url.pathExtension.lowercased() {
        case "png": "image/png"
        case "jpg", "jpeg": "image/jpeg"
        case "svg": "image/svg+xml"
        default: throw CommandFailure("\(path): \(file) is not a .png, .jpg or .svg picture", exitCode: FloorgateExit.badUsage)
        }
        let bytes: Data
        do {
            bytes = try Data(contentsOf: url)
        } catch {
            throw CommandFailure("\(path): cannot read \(url.path): \(error.localizedDescription)", exitCode: FloorgateExit.badUsage)
        }
        do {
            let stored = try await target.call(.mediaPut, ["content_type": .string(type), "data": .string(bytes.base64EncodedString())])
            return stored["hash"] ?? .null
        } catch let failure as CommandFailure {
            throw CommandFailure("\(path) (\(url.path)): \(failure.message)", exitCode: failure.exitCode)
        }
    }
}
