/// A name pattern for commands, parameters and identities: `*` matches any
/// run of characters, dots included.
///
/// `checkout.split.*` matches every split knob of `checkout`;
/// `*.retry.max_attempts` matches that knob in every pipeline; `param.*`
/// matches every `param` command; `*` matches everything. Matching works on
/// UTF-8 bytes (names are ASCII), as it runs on every command.
public struct NamePattern: Sendable, Hashable, CustomStringConvertible, ExpressibleByStringLiteral {
    public let pattern: String
    private let parts: [[UInt8]]

    public init(_ pattern: String) {
        self.pattern = pattern
        parts = pattern.utf8.split(separator: UInt8(ascii: "*"), omittingEmptySubsequences: false).map(Array.init)
    }

    public init(stringLiteral value: String) { self.init(value) }

    public var description: String { pattern }

    /// Whether `name` matches the whole pattern.
    public func matches(_ name: String) -> Bool {
        var name = name
        return name.withUTF8 { matches(bytes: $0) }
    }

    private func matches(bytes name: UnsafeBufferPointer<UInt8>) -> Bool {
        if parts.count == 1 { return name.elementsEqual(parts[0]) }
        let first = parts[0]
        let last = parts[parts.count - 1]
        guard name.count >= first.count + last.count, name.starts(with: first),
            name[(name.count - last.count)...].elementsEqual(last)
        else { return false }
        var position = first.count
        let end = name.count - last.count
        for part in parts.dropFirst().dropLast() where !part.isEmpty {
            guard let found = Self.find(part, in: name, from: position, to: end) else { return false }
            position = found + part.count
        }
        return true
    }

    private static func find(_ part: [UInt8], in name: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> Int? {
        guard end - start >= part.count else { return nil }
        var index = start
        while index + part.count <= end {
            if name[index..<(index + part.count)].elementsEqual(part) { return index }
            index += 1
        }
        return nil
    }
}
