import Foundation
package import Yams

/// Strict, line-numbered access to a parsed YAML document.
///
/// Policy and schema files are written by people and may be hostile, so this reader refuses
/// aliases (no "billion laughs"), deep nesting and oversized files, and every error names the line.
package struct YAMLReader {
    package static let maximumBytes = 1 << 20
    package static let maximumDepth = 16

    package let fileName: String

    /// Reads a policy or schema file as UTF-8 text, refusing one larger than ``maximumBytes``
    /// after reading at most one byte more (so `/dev/zero` or a huge file costs nothing).
    ///
    /// - Throws: ``VaultError`` `.notFound` when the file cannot be opened, `.invalidInput` when
    ///   it is too large or not UTF-8, `.io` when reading fails.
    package static func readFile(at path: String, what: String) throws -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue,
              let handle = FileHandle(forReadingAtPath: path) else {
            throw VaultError.notFound("\(what) \(path) does not exist or cannot be read")
        }
        defer { try? handle.close() }
        let data: Data
        do {
            data = try handle.read(upToCount: maximumBytes + 1) ?? Data()
        } catch {
            throw VaultError.io("cannot read \(what) \(path)")
        }
        guard data.count <= maximumBytes else {
            throw VaultError.invalidInput("\(path):1: the file is larger than \(maximumBytes) bytes")
        }
        guard let text = String(data: data, encoding: .utf8) else { throw VaultError.invalidInput("\(path): not UTF-8 text") }
        return text
    }

    package func parse(_ text: String) throws -> Node {
        guard text.utf8.count <= Self.maximumBytes else {
            throw VaultError.invalidInput("\(fileName):1: the file is larger than \(Self.maximumBytes) bytes")
        }
        let node: Node?
        do {
            // Composing shares aliased subtrees without copying them; walking the tree would expand
            // them ("billion laughs"). So the walk refuses the first anchor it meets, and counts
            // nodes as a backstop. Nodes hold their anchors weakly: keep the parser alive meanwhile.
            // The basic resolver: every value is read as text by this reader, so the default resolver's
            // regular expressions (bool, int, float, timestamp…) would only cost each open their compilation.
            let parser = try Parser(yaml: text, resolver: .basic)
            node = try parser.singleRoot()
            if let node {
                var visited = 0
                try withExtendedLifetime(parser) { try checkTree(node, depth: 0, visited: &visited) }
            }
        } catch let error as VaultError {
            throw error
        } catch let error as YamlError {
            let (line, problem) = Self.describe(error)
            throw VaultError.invalidInput("\(fileName):\(line): \(problem)")
        } catch {
            throw VaultError.invalidInput("\(fileName):1: not valid YAML")
        }
        guard let node else { throw VaultError.invalidInput("\(fileName):1: the file is empty") }
        return node
    }

    package static let maximumNodes = 100_000

    private func checkTree(_ node: Node, depth: Int, visited: inout Int) throws {
        visited += 1
        if node.anchor != nil { throw error(at: node, "YAML anchors and aliases (&name, *name) are not accepted") }
        guard visited <= Self.maximumNodes else { throw error(at: node, "more than \(Self.maximumNodes) nodes") }
        guard depth <= Self.maximumDepth else {
            throw error(at: node, "nesting deeper than \(Self.maximumDepth) levels")
        }
        switch node {
        case .scalar: return
        case .alias: throw error(at: node, "YAML anchors and aliases (&name, *name) are not accepted")
        case .mapping(let mapping):
            for (key, value) in mapping {
                try checkTree(key, depth: depth + 1, visited: &visited)
                try checkTree(value, depth: depth + 1, visited: &visited)
            }
        case .sequence(let sequence):
            for item in sequence { try checkTree(item, depth: depth + 1, visited: &visited) }
        }
    }

    package func error(at node: Node, _ message: String) -> VaultError {
        VaultError.invalidInput("\(fileName):\(Self.line(of: node)): \(message)")
    }

    package static func line(of node: Node) -> Int { node.mark?.line ?? 0 }

    private static func describe(_ error: YamlError) -> (line: Int, problem: String) {
        // Yams' descriptions quote the offending source line, which may hold anything; keep
        // only the position and the parser's problem statement.
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return (mark.line, problem)
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Key names are schema or policy vocabulary, not data; still, show only the first few.
            return (context.mark.line, "duplicate key \(duplicates.prefix(3).map { PolicyLoader.shown("\($0)") }.joined(separator: ", "))")
        default:
            return (1, "not valid YAML")
        }
    }

    // MARK: - Typed access

    /// The ordered key/value pairs of a mapping whose keys are plain strings, refusing duplicates.
    package func mapping(_ node: Node, _ what: String) throws -> [(key: String, keyNode: Node, value: Node)] {
        guard case .mapping(let mapping) = node else { throw error(at: node, "\(what) must be a mapping") }
        var seen = Set<String>()
        var pairs: [(key: String, keyNode: Node, value: Node)] = []
        for (keyNode, value) in mapping {
            guard case .scalar(let scalar) = keyNode else { throw error(at: keyNode, "keys of \(what) must be plain names") }
            guard seen.insert(scalar.string).inserted else {
                throw error(at: keyNode, "duplicate key '\(scalar.string)' in \(what)")
            }
            pairs.append((scalar.string, keyNode, value))
        }
        return pairs
    }

    package func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw error(at: node, "\(what) must be a single value") }
        return scalar.string
    }

    package func integer(_ node: Node, _ what: String) throws -> Int {
        guard let value = Int(try string(node, what)) else { throw error(at: node, "\(what) must be a whole number") }
        return value
    }

    package func number(_ node: Node, _ what: String) throws -> Double {
        guard let value = Double(try string(node, what)), value.isFinite else {
            throw error(at: node, "\(what) must be a number")
        }
        return value
    }

    package func bool(_ node: Node, _ what: String) throws -> Bool {
        switch try string(node, what) {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw error(at: node, "\(what) must be true or false")
        }
    }

    package func strings(_ node: Node, _ what: String) throws -> [String] {
        guard case .sequence(let sequence) = node else { throw error(at: node, "\(what) must be a list") }
        return try sequence.map { try string($0, what) }
    }
}
