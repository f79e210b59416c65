/// A name pattern for commands, parameters and identities: `*` matches any
/// run of characters, dots included.
///
/// `checkout.split.*` matches every split knob of `checkout`;
/// `*.retry.max_attempts` matches that knob in every pipeline; `param.*`
/// matches every `param` command; `*` matches everything.
public struct NamePattern: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let pattern: String
    private let parts: [Substring]

    public init(_ pattern: String) {
        self.pattern = pattern
        parts = pattern.split(separator: "*", omittingEmptySubsequences: false)
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { pattern }

    /// Whether `name` matches the whole pattern.
    public func matches(_ name: String) -> Bool {
        if parts.count == 1 { return name == pattern }
        var rest = Substring(name)
        guard rest.hasPrefix(parts[0]) else { return false }
        rest = rest.dropFirst(parts[0].count)
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let end = Self.endOfFirstMatch(of: part, in: rest) else { return false }
            rest = rest[end...]
        }
        let last = parts[parts.count - 1]
        return rest.count >= last.count && rest.hasSuffix(last)
    }

    private static func endOfFirstMatch(of part: Substring, in text: Substring) -> Substring.Index? {
        var start = text.startIndex
        while start < text.endIndex {
            if text[start...].hasPrefix(part) { return text.index(start, offsetBy: part.count) }
            start = text.index(after: start)
        }
        return nil
    }
}
