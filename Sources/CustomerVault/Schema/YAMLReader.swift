import Yams

/// Strict, line-numbered access to a parsed YAML document.
///
/// Policy and schema files are written by people and may be hostile, so this reader refuses
/// aliases (no "billion laughs"), deep nesting and oversized files, and every error names the line.
struct YAMLReader {
    static let maximumBytes = 1 << 20
    static let maximumDepth = 16

    let fileName: String

    func parse(_ text: String) throws -> Node {
        guard text.utf8.count <= Self.maximumBytes else {
            throw VaultError.invalidInput("\(fileName): file is larger than \(Self.maximumBytes) bytes")
        }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let error as YamlError {
            throw VaultError.invalidInput("\(fileName): \(Self.describe(error))")
        } catch {
            throw VaultError.invalidInput("\(fileName): not valid YAML")
        }
        guard let node else { throw VaultError.invalidInput("\(fileName): the file is empty") }
        try checkDepth(node, depth: 0)
        return node
    }

    private func checkDepth(_ node: Node, depth: Int) throws {
        guard depth <= Self.maximumDepth else {
            throw error(at: node, "nesting deeper than \(Self.maximumDepth) levels")
        }
        switch node {
        case .scalar: return
        case .alias: throw error(at: node, "YAML aliases are not accepted")
        case .mapping(let mapping):
            for (key, value) in mapping {
                try checkDepth(key, depth: depth + 1)
                try checkDepth(value, depth: depth + 1)
            }
        case .sequence(let sequence):
            for item in sequence { try checkDepth(item, depth: depth + 1) }
        }
    }

    func error(at node: Node, _ message: String) -> VaultError {
        VaultError.invalidInput("\(fileName):\(Self.line(of: node)): \(message)")
    }

    static func line(of node: Node) -> Int { node.mark?.line ?? 0 }

    private static func describe(_ error: YamlError) -> String {
        // Yams' descriptions quote the offending source line, which may hold anything; keep
        // only the position and the parser's problem statement.
        switch error {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _),
             .composer(_, let problem, let mark, _):
            return "line \(mark.line): \(problem)"
        case .duplicatedKeysInMapping(let duplicates, let context):
            // Key names are schema vocabulary, not data; still, show only the first few.
            return "line \(context.mark.line): duplicate key \(duplicates.prefix(3).joined(separator: ", "))"
        default:
            return "not valid YAML"
        }
    }

    // MARK: - Typed access

    /// The ordered key/value pairs of a mapping whose keys are plain strings, refusing duplicates.
    func mapping(_ node: Node, _ what: String) throws -> [(key: String, keyNode: Node, value: Node)] {
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

    func string(_ node: Node, _ what: String) throws -> String {
        guard case .scalar(let scalar) = node else { throw error(at: node, "\(what) must be a single value") }
        return scalar.string
    }

    func integer(_ node: Node, _ what: String) throws -> Int {
        guard let value = Int(try string(node, what)) else { throw error(at: node, "\(what) must be a whole number") }
        return value
    }

    func number(_ node: Node, _ what: String) throws -> Double {
        guard let value = Double(try string(node, what)), value.isFinite else {
            throw error(at: node, "\(what) must be a number")
        }
        return value
    }

    func bool(_ node: Node, _ what: String) throws -> Bool {
        switch try string(node, what) {
        case "true", "yes": return true
        case "false", "no": return false
        default: throw error(at: node, "\(what) must be true or false")
        }
    }

    func strings(_ node: Node, _ what: String) throws -> [String] {
        guard case .sequence(let sequence) = node else { throw error(at: node, "\(what) must be a list") }
        return try sequence.map { try string($0, what) }
    }
}
