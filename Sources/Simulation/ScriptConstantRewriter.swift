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
        // A line that begins inside a block comment, a long string or a continued string is text, not a declaration.
        let code = linesStartingInCode(lines)
        for override in overrides {
            let declarations = lines.indices.compactMap { index in
                code[index] ? valueStart(lines[index], override.name).map { (index, $0) } : nil
            }
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
            if let problem = trailer(lines[index], from: found.end) {
                throw override.location.error("\(file):\(index + 1): \(override.name): \(problem), so it cannot be changed here")
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

    /// The end and kind of the literal at `start`, when only blanks or a
    /// comment follow it (the comment itself is checked by ``trailer(_:from:)``).
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
        while i < line.count, isBlankOrCR(line[i]) { i += 1 }
        guard i == line.count || line[i...].starts(with: Array("--".utf8)) else { return nil }
        return (end, kind)
    }

    private static func isBlankOrCR(_ byte: UInt8) -> Bool { isBlank(byte) || byte == UInt8(ascii: "\r") }

    /// What is wrong with the comment after the literal ending at `end`, if
    /// anything: a line comment (`-- ...`) is fine, and so is a block
    /// comment (`--[[ ... ]]`, `--[==[ ... ]==]`) that closes on the line
    /// with only blanks after it. Anything else could make the literal part of
    /// a longer expression (`"a" --[[c]] .. "b"`) or leave a comment open.
    private static func trailer(_ line: [UInt8], from end: Int) -> String? {
        var i = end
        while i < line.count, isBlankOrCR(line[i]) { i += 1 }
        guard i < line.count else { return nil }
        i += 2  // "--", as `literal` checked
        guard let level = longBracket(line, at: i) else { return nil }
        guard let close = closingBracket(line, from: i + level + 2, level: level) else {
            return "the block comment after its literal does not close on that line"
        }
        i = close
        while i < line.count, isBlankOrCR(line[i]) { i += 1 }
        guard i == line.count else { return "the block comment after its literal is followed by more on that line" }
        return nil
    }

    // MARK: - Where code is

    /// The level of the long bracket opening at `i` (`[[` is 0, `[==[` is 2), if one does.
    private static func longBracket(_ line: [UInt8], at i: Int) -> Int? {
        guard i < line.count, line[i] == UInt8(ascii: "[") else { return nil }
        var j = i + 1
        while j < line.count, line[j] == UInt8(ascii: "=") { j += 1 }
        guard j < line.count, line[j] == UInt8(ascii: "[") else { return nil }
        return j - i - 1
    }

    /// Where the long bracket of `level` closes (just past its `]=*]`), searching from `i`.
    private static func closingBracket(_ line: [UInt8], from i: Int, level: Int) -> Int? {
        var i = i
        while i < line.count {
            if line[i] == UInt8(ascii: "]") {
                var j = i + 1
                while j < line.count, line[j] == UInt8(ascii: "="), j - i - 1 < level { j += 1 }
                if j - i - 1 == level, j < line.count, line[j] == UInt8(ascii: "]") { return j + 1 }
            }
            i += 1
        }
        return nil
    }

    /// For each line, whether it begins in code: not inside a block comment
    /// (`--[[ ]]`, `--[==[ ]==]`), a long string (`[[ ]]`, `[==[ ]==]`) or a
    /// quoted string continued from the line before (`\` or `\z` at its end).
    /// Follows Lua's lexer as far as these need: quoted strings and line
    /// comments hide brackets and quotes, and a `--` in a string is no comment.
    static func linesStartingInCode(_ lines: [[UInt8]]) -> [Bool] {
        enum Mode { case code, quoted(UInt8), long(level: Int) }
        let dash = UInt8(ascii: "-"), backslash = UInt8(ascii: "\\")
        var mode = Mode.code
        var result: [Bool] = []
        result.reserveCapacity(lines.count)
        for line in lines {
            if case .code = mode { result.append(true) } else { result.append(false) }
            var continued = false  // a quoted string going on to the next line
            var i = 0
            scan: while i < line.count {
                switch mode {
                case .code:
                    let byte = line[i]
                    if byte == dash, i + 1 < line.count, line[i + 1] == dash {
                        guard let level = longBracket(line, at: i + 2) else { break scan }  // a line comment
                        mode = .long(level: level)
                        i += 2 + level + 2
                    } else if byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "'") {
                        mode = .quoted(byte)
                        i += 1
                    } else if let level = longBracket(line, at: i) {
                        mode = .long(level: level)
                        i += level + 2
                    } else {
                        i += 1
                    }
                case .quoted(let quote):
                    if line[i] == backslash {
                        let rest = line[(i + 1)...]
                        let escaped = rest.first
                        // `\` before the line's end (or its \r), or `\z` before nothing but blanks, go on to the next line.
                        if escaped == nil || rest.allSatisfy({ $0 == UInt8(ascii: "\r") })
                            || (escaped == UInt8(ascii: "z") && rest.dropFirst().allSatisfy(isBlankOrCR))
                        {
                            continued = true
                            break scan
                        }
                        i += 2
                    } else {
                        if line[i] == quote { mode = .code }
                        i += 1
                    }
                case .long(let level):
                    if let close = closingBracket(line, from: i, level: level) {
                        mode = .code
                        i = close
                    } else {
                        break scan
                    }
                }
            }
            // A quoted string ends with its line unless continued (otherwise Lua refuses the file anyway).
            if case .quoted = mode, !continued { mode = .code }
        }
        return result
    }
}
