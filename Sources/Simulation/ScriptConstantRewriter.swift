import Sentinel

/// Puts a scenario's `constants` into the scripts it runs: in the source of
/// each named file, the literal of `local NAME = LITERAL` becomes the
/// scenario's value. Only the literal changes, so every line keeps its number
/// (and its comment) and errors still point at the file as it is on disk.
enum ScriptConstantRewriter {
    /// What a literal is; an override must keep it.
    enum Kind: String {
        case boolean, number, string

        init?(_ value: JSONValue) {
            switch value {
            case .bool: self = .boolean
            case .int, .double: self = .number
            case .string: self = .string
            default: return nil
            }
        }
    }

    /// The scanned files with the overrides applied.
    ///
    /// - Throws: ``ConfigurationError`` at the override when its file is not
    ///   among the scripts, or the file does not declare the constant as one
    ///   literal of the same kind.
    static func apply(_ overrides: [ConstantOverride], to changes: [ScriptFolderChange]) throws(ConfigurationError) -> [ScriptFolderChange]
    {
        guard !overrides.isEmpty else { return changes }
        var files: [String: ScriptFile] = [:]
        for case .added(let file) in changes { files[fileName(file.path)] = file }
        for override in overrides where files[override.file] == nil {
            let known = files.keys.sorted().joined(separator: ", ")
            throw override.location.error("no script \(override.file) in the policies folder (scripts: \(known.isEmpty ? "none" : known))")
        }
        return try changes.map { (change) throws(ConfigurationError) -> ScriptFolderChange in
            guard case .added(let file) = change else { return change }
            let mine = overrides.filter { $0.file == fileName(file.path) }
            guard !mine.isEmpty else { return change }
            let source = try rewrite(file.contents, file: file.path, mine)
            return .added(ScriptFile(path: file.path, name: file.name, contents: source))
        }
    }

    /// `source` with each override's literal replaced.
    static func rewrite(_ source: [UInt8], file: String, _ overrides: [ConstantOverride]) throws(ConfigurationError) -> [UInt8] {
        var lines = source.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).map(Array.init)
        for override in overrides {
            let declarations = lines.indices.compactMap { index in valueStart(lines[index], override.name).map { (index, $0) } }
            guard let declaration = declarations.first else {
                throw override.location.error("\(file) has no line `local \(override.name) = ...` to change")
            }
            let (index, start) = declaration
            guard declarations.count == 1 else {
                let numbers = declarations.map { String($0.0 + 1) }.joined(separator: ", ")
                throw override.location.error("\(file) declares \(override.name) more than once (lines \(numbers))")
            }
            guard let found = literal(lines[index], from: start) else {
                throw override.location.error(
                    "\(file):\(index + 1): \(override.name) is not one literal (true, false, a number or a quoted string) "
                        + "followed at most by a comment, so it cannot be changed here")
            }
            guard let wanted = Kind(override.value), wanted == found.kind else {
                let kind = found.kind.rawValue
                throw override.location.error(
                    "\(file):\(index + 1): \(override.name) is a \(kind); give a \(kind), not \(override.value.jsonString())")
            }
            lines[index].replaceSubrange(start..<found.end, with: Array(override.luaLiteral.utf8))
        }
        return Array(lines.joined(separator: [UInt8(ascii: "\n")]))
    }

    // MARK: - Reading one line

    private static func fileName(_ path: String) -> String {
        path.split(separator: "/").last.map(String.init) ?? path
    }

    private static func isBlank(_ byte: UInt8) -> Bool { byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }

    private static func isWordByte(_ byte: UInt8) -> Bool {
        byte == UInt8(ascii: "_") || (0x30...0x39).contains(byte) || (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte)
    }

    /// Where the value starts when `line` is `local NAME = ...` (from its first byte).
    private static func valueStart(_ line: [UInt8], _ name: String) -> Int? {
        let keyword = Array("local".utf8)
        guard line.starts(with: keyword) else { return nil }
        var i = keyword.count
        guard i < line.count, isBlank(line[i]) else { return nil }
        while i < line.count, isBlank(line[i]) { i += 1 }
        let word = Array(name.utf8)
        guard line[i...].starts(with: word) else { return nil }
        i += word.count
        guard i == line.count || !isWordByte(line[i]) else { return nil }
        while i < line.count, isBlank(line[i]) { i += 1 }
        guard i < line.count, line[i] == UInt8(ascii: "="), i + 1 == line.count || line[i + 1] != UInt8(ascii: "=") else {
            return nil
        }
        i += 1
        while i < line.count, isBlank(line[i]) { i += 1 }
        return i
    }

    /// The end and kind of the literal at `start`, when nothing but blanks
    /// and a comment follow it.
    private static func literal(_ line: [UInt8], from start: Int) -> (end: Int, kind: Kind)? {
        guard start < line.count else { return nil }
        var i = start
        let kind: Kind
        let first = line[i]
        if first == UInt8(ascii: "\"") || first == UInt8(ascii: "'") {
            i += 1
            while i < line.count, line[i] != first {
                i += line[i] == UInt8(ascii: "\\") ? 2 : 1
            }
            guard i < line.count else { return nil }
            i += 1
            kind = .string
        } else if isWordByte(first) || first == UInt8(ascii: "-") || first == UInt8(ascii: ".") {
            if first == UInt8(ascii: "-") { i += 1 }
            let wordStart = i
            let hex = line[i...].starts(with: Array("0x".utf8)) || line[i...].starts(with: Array("0X".utf8))
            while i < line.count {
                let byte = line[i]
                // A sign belongs to the numeral only right after its exponent letter (e, or p in hexadecimal).
                let exponentSign =
                    (byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-")) && i > wordStart
                    && (hex ? "pP" : "eE").utf8.contains(line[i - 1])
                guard isWordByte(byte) || byte == UInt8(ascii: ".") || exponentSign else { break }
                i += 1
            }
            let word = String(decoding: line[wordStart..<i], as: UTF8.self)
            let numeral = word.first.map { $0.isASCII && ($0.isNumber || $0 == ".") } ?? false
            if first != UInt8(ascii: "-"), word == "true" || word == "false" {
                kind = .boolean
            } else if numeral, Double(word) != nil {
                kind = .number
            } else {
                return nil
            }
        } else {
            return nil
        }
        let end = i
        while i < line.count, isBlank(line[i]) || line[i] == UInt8(ascii: "\r") { i += 1 }
        guard i == line.count || line[i...].starts(with: Array("--".utf8)) else { return nil }
        return (end, kind)
    }
}
