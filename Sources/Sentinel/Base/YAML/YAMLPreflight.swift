/// Bounds on a YAML file, checked before it is composed and while its tree is
/// walked, so that the work a parse may do is bounded by the input's size and
/// not by a timer ("billion laughs": a few hundred bytes of nested aliases
/// that expand to billions of nodes).
///
/// Yams composes aliases by sharing nodes, which is cheap, but everything that
/// walks the tree afterwards (and Yams' own duplicate-key check, which hashes
/// complex keys) pays for the expansion. So:
/// - before composing, the text is at most ``maximumBytes``, has at most
///   ``maximumAliases`` alias references (`*name`), nests at most
///   ``maximumDepth`` levels, and, once it has aliases, uses no complex keys
///   (an alias, a flow collection or `? ` as a mapping key);
/// - after composing, the tree with every alias expanded has at most
///   ``maximumNodes`` nodes; counting stops at the first node over.
public struct YAMLInputLimits: Sendable, Hashable {
    /// Largest accepted text: 1 MiB.
    public var maximumBytes = 1 << 20
    /// Most alias references (`*name`): 100.
    public var maximumAliases = 100
    /// Most nodes once aliases are expanded: 100,000.
    public var maximumNodes = 100_000
    /// Deepest nesting: 200 levels (bounds the recursion of composing and walking).
    public var maximumDepth = 200

    /// The limits every configuration and scenario file is read with.
    public static let standard = YAMLInputLimits()
}

/// A linear scan of YAML text for the limits that must hold before composing.
///
/// It is deliberately conservative: it counts every `*` that could begin an
/// alias (after a space, a line start or a flow indicator, and followed by an
/// anchor character), even inside quoted text, so it can only over-count.
/// Real configuration files have no aliases, and a file near the limit is
/// refused with a clear message rather than expanded.
struct YAMLPreflight {
    let limits: YAMLInputLimits

    struct Refusal: Error {
        var line: Int
        var message: String
    }

    func check(_ text: String) -> Refusal? {
        let bytes = text.utf8
        if bytes.count > limits.maximumBytes {
            return Refusal(line: 1, message: "the file is \(bytes.count) bytes, over the limit of \(limits.maximumBytes) (1 MiB)")
        }
        var aliases = 0
        var firstAliasLine: Int?
        var complexKeyLine: Int?
        var line = 1
        var indent = 0
        var atLineStart = true
        var flowDepth = 0
        var indicatorsOnLine = 0
        var previous: UInt8 = UInt8(ascii: "\n")
        var inComment = false
        var index = bytes.startIndex
        // What may stand before a token that begins a node.
        func beginsToken(_ byte: UInt8) -> Bool {
            byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "[") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: ",")
        }
        func isAnchorCharacter(_ byte: UInt8) -> Bool {
            !(byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n")
                || byte == UInt8(ascii: "\r") || byte == UInt8(ascii: ",") || byte == UInt8(ascii: "[")
                || byte == UInt8(ascii: "]") || byte == UInt8(ascii: "{") || byte == UInt8(ascii: "}"))
        }
        while index != bytes.endIndex {
            let byte = bytes[index]
            let next = bytes.index(after: index)
            let following: UInt8? = next == bytes.endIndex ? nil : bytes[next]
            if byte == UInt8(ascii: "\n") {
                line += 1
                atLineStart = true
                indent = 0
                indicatorsOnLine = 0
                inComment = false
                previous = byte
                index = next
                continue
            }
            if atLineStart {
                if byte == UInt8(ascii: " ") {
                    indent += 1
                    previous = byte
                    index = next
                    continue
                }
                atLineStart = false
            }
            if inComment {
                index = next
                continue
            }
            if byte == UInt8(ascii: "#"), beginsToken(previous) {
                inComment = true
                index = next
                continue
            }
            switch byte {
            case UInt8(ascii: "*") where beginsToken(previous) && following.map(isAnchorCharacter) == true:
                aliases += 1
                if firstAliasLine == nil { firstAliasLine = line }
                // An alias used as a mapping key: `*name:` or `*name :`.
                var cursor = next
                while cursor != bytes.endIndex, isAnchorCharacter(bytes[cursor]), bytes[cursor] != UInt8(ascii: ":") {
                    cursor = bytes.index(after: cursor)
                }
                while cursor != bytes.endIndex, bytes[cursor] == UInt8(ascii: " ") { cursor = bytes.index(after: cursor) }
                if cursor != bytes.endIndex, bytes[cursor] == UInt8(ascii: ":"), complexKeyLine == nil { complexKeyLine = line }
            case UInt8(ascii: "?")
            where beginsToken(previous) && (following == nil || following == UInt8(ascii: " ") || following == UInt8(ascii: "\n")):
                if complexKeyLine == nil { complexKeyLine = line }
                indicatorsOnLine += 1
            case UInt8(ascii: "["), UInt8(ascii: "{"):
                flowDepth += 1
            case UInt8(ascii: "]"), UInt8(ascii: "}"):
                flowDepth = max(0, flowDepth - 1)
                // A flow collection used as a mapping key: `[a, b]: c`.
                var cursor = next
                while cursor != bytes.endIndex, bytes[cursor] == UInt8(ascii: " ") { cursor = bytes.index(after: cursor) }
                if cursor != bytes.endIndex, bytes[cursor] == UInt8(ascii: ":"), complexKeyLine == nil {
                    let after = bytes.index(after: cursor)
                    if after == bytes.endIndex || bytes[after] == UInt8(ascii: " ") || bytes[after] == UInt8(ascii: "\n") {
                        complexKeyLine = line
                    }
                }
            case UInt8(ascii: "-") where beginsToken(previous) && (following == UInt8(ascii: " ") || following == UInt8(ascii: "\n")):
                indicatorsOnLine += 1
            case UInt8(ascii: ":") where following == nil || following == UInt8(ascii: " ") || following == UInt8(ascii: "\n"):
                indicatorsOnLine += 1
            default:
                break
            }
            // Every level of nesting costs an indentation column, a block
            // indicator on the line, or an open flow bracket: their sum bounds the depth.
            if indent + indicatorsOnLine + flowDepth > limits.maximumDepth {
                return Refusal(line: line, message: "the document nests deeper than \(limits.maximumDepth) levels")
            }
            previous = byte
            index = next
        }
        if aliases > limits.maximumAliases {
            return Refusal(
                line: firstAliasLine ?? 1,
                message: "the document has \(aliases) alias references (*name), over the limit of \(limits.maximumAliases)")
        }
        if aliases > 0, let complexKeyLine {
            return Refusal(
                line: complexKeyLine,
                message: "a mapping key must be a plain string in a document with aliases (no alias, list, map or '? ' as a key)")
        }
        return nil
    }
}
