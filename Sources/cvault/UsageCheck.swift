import ArgumentParser
import CustomerVault

/// Checks a command line that ArgumentParser refused against the command tree, so that a mistyped
/// subcommand or option gets one line that names it, a "did you mean", and the usage of the
/// command that was meant (ArgumentParser says "2 unexpected arguments"). Every option takes its
/// value with ArgumentParser's default strategy, which never takes an option-like word for a
/// value, so a command line it accepts has no unknown option to find.
enum UsageCheck {
    /// A usage error: one line, and the usage of the command it concerns.
    struct Problem: Error {
        var message: String
        var command: any ParsableCommand.Type
    }

    /// Throws a ``Problem`` for the first unknown subcommand or option of `arguments`.
    static func check(_ arguments: [String]) throws {
        var command: any ParsableCommand.Type = CVault.self
        var path = ["cvault"]
        var index = 0
        // Down the tree: each word names a subcommand until a command without subcommands.
        while index < arguments.count {
            let subcommands = command.configuration.subcommands
            guard !subcommands.isEmpty else { break }
            let word = arguments[index]
            if word.hasPrefix("-") || word == "help" { return }  // --help, --version, … : ArgumentParser's
            let names = subcommands.flatMap { [$0._commandName] + $0.configuration.aliases }
            let named = subcommands.first(where: { $0._commandName == word || $0.configuration.aliases.contains(word) })
            if named == nil, let fallback = command.configuration.defaultSubcommand {
                // `customer history 42` is `customer history show 42`.
                command = fallback
                path.append(fallback._commandName)
                continue
            }
            guard let next = named else {
                let best = Suggestion.closest(to: word, among: names).first
                let meant = best.flatMap { name in subcommands.first { $0._commandName == name || $0.configuration.aliases.contains(name) } }
                throw Problem(message: "unknown command '\(word)' for '\(path.joined(separator: " "))'" + (best.map { " (did you mean '\($0)'?)" } ?? "")
                              + "; commands: " + subcommands.map { $0._commandName }.joined(separator: ", "), command: meant ?? command)
            }
            command = next
            path.append(next._commandName)
            index += 1
        }
        let known = options(of: command)
        for word in arguments[index...] {
            if word == "--" { return }
            guard word.hasPrefix("--"), word.count > 2 else { continue }
            let name = String(word.prefix { $0 != "=" })
            guard !known.contains(name) else { continue }
            if name == "--json" {
                throw Problem(message: "'\(path.joined(separator: " "))' does not print JSON; leave out --json", command: command)
            }
            throw Problem(message: "unknown option '\(name)' for '\(path.joined(separator: " "))'" + Suggestion.didYouMean(name, among: known.sorted()),
                          command: command)
        }
    }

    /// The long option names a command accepts, read from its help screen (hidden ones included).
    static func options(of command: any ParsableCommand.Type) -> Set<String> {
        var names: Set<String> = ["--help", "--version", "--generate-completion-script", "--experimental-dump-help"]
        let help = CVault.helpMessage(for: command, includeHidden: true, columns: 400)
        var inOptions = false
        for line in help.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasSuffix(":") && !line.hasPrefix(" ") { inOptions = line.uppercased() == line; continue }
            guard inOptions else { continue }
            // "  -h, --help   …" or "  --vault <path>   …": the names before the first double space.
            let head = line.drop(while: { $0 == " " }).split(separator: "  ", maxSplits: 1).first ?? ""
            for token in head.split(whereSeparator: { $0 == " " || $0 == "," || $0 == "/" }) where token.hasPrefix("--") {
                names.insert(String(token))
            }
        }
        return names
    }

    /// "Usage: …" of a command and where its help is.
    static func usage(of command: any ParsableCommand.Type) -> String {
        let usage = CVault.usageString(for: command)
        let path = CVault.commandPath(to: command)
        return "Usage: \(usage)\n  See '\(path) --help' for more information."
    }
}

extension CVault {
    /// `cvault customer find` for the `Find` type.
    static func commandPath(to command: any ParsableCommand.Type) -> String {
        func search(_ node: any ParsableCommand.Type, _ path: [String]) -> [String]? {
            if ObjectIdentifier(node) == ObjectIdentifier(command) { return path }
            for child in node.configuration.subcommands {
                if let found = search(child, path + [child._commandName]) { return found }
            }
            return nil
        }
        return (search(CVault.self, ["cvault"]) ?? ["cvault"]).joined(separator: " ")
    }
}
