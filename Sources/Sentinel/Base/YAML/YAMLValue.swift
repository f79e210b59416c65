import Resilience
import Yams

/// A YAML node with its path and line, for readers that report errors as
/// `file:line: field: message`.
public struct YAMLValue {
    let node: Node
    /// The field path from the root: `guards[2].max_step_up`.
    public let path: String
    let file: String?

    /// Parses `text`; an empty document is an empty mapping.
    ///
    /// The work is bounded by `limits` (``YAMLInputLimits``): text that is too
    /// large, too deeply nested or too rich in aliases is refused before it is
    /// composed, and a tree that expands to too many nodes after.
    public static func parse(
        _ text: String, file: String?, limits: YAMLInputLimits = .standard
    ) throws(ConfigurationError) -> YAMLValue {
        if let refusal = YAMLPreflight(limits: limits).check(text) {
            throw ConfigurationError(file: file, line: refusal.line, message: refusal.message)
        }
        let node: Node
        do {
            node = try Yams.compose(yaml: text) ?? Node.mapping(.init([]))
        } catch let error as YamlError {
            throw ConfigurationError(file: file, line: Self.line(of: error), message: "not valid YAML: \(Self.describe(error))")
        } catch {
            throw ConfigurationError(file: file, message: "not valid YAML: \(error)")
        }
        if let line = Self.lineOverNodeLimit(node, limit: limits.maximumNodes) {
            throw ConfigurationError(
                file: file, line: line,
                message: "the document expands to more than \(limits.maximumNodes) nodes (aliases included)")
        }
        return YAMLValue(node: node, path: "", file: file)
    }

    /// Counts the nodes of the tree with aliases expanded, stopping at the
    /// first one over `limit`; returns its line, or nil when the tree is within.
    private static func lineOverNodeLimit(_ root: Node, limit: Int) -> Int? {
        var count = 0
        var stack: [Node] = [root]
        while let node = stack.popLast() {
            count += 1
            if count > limit { return node.mark?.line ?? 1 }
            switch node {
            case .scalar, .alias: break
            case .sequence(let sequence): stack.append(contentsOf: sequence)
            case .mapping(let mapping):
                for (key, value) in mapping {
                    stack.append(key)
                    stack.append(value)
                }
            }
        }
        return nil
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        case .duplicatedKeysInMapping(_, let context):
            return context.mark.line
        case .reader(_, let offset?, _, let yaml):
            // libyaml reports a byte offset: count the lines before it.
            var line = 1
            for byte in yaml.utf8.prefix(offset) where byte == UInt8(ascii: "\n") { line += 1 }
            return line
        default:
            return nil
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        case .duplicatedKeysInMapping(let duplicates, _):
            let keys = duplicates.map { "\"\(quotePrefix($0))\"" }.joined(separator: ", ")
            return "duplicate key \(keys) in a mapping"
        case .reader(let problem, _, let value, _):
            return value >= 0 ? "\(problem) (character 0x\(String(value, radix: 16)))" : problem
        default:
            return quotePrefix("\(error)")
        }
    }

    /// The 1-based line of this node.
    public var line: Int? { node.mark.map { $0.line } }

    /// An error at this node.
    public func error(_ message: String) -> ConfigurationError {
        // A node without a mark is the empty document: its errors are about the whole file, line 1.
        ConfigurationError(file: file, line: line ?? 1, field: path.isEmpty ? nil : path, message: message)
    }

    private func child(_ node: Node, _ component: String) -> YAMLValue {
        let path = component.hasPrefix("[") ? self.path + component : (self.path.isEmpty ? component : self.path + "." + component)
        return YAMLValue(node: node, path: path, file: file)
    }

    // MARK: - Shapes

    public var isNull: Bool {
        if case .scalar(let scalar) = node {
            return scalar.string == "~" || scalar.string == "null" || (scalar.string.isEmpty && scalar.style == .plain)
        }
        return false
    }

    /// The keys and values of a mapping, in file order.
    public func mapping() throws(ConfigurationError) -> [(key: String, value: YAMLValue)] {
        guard case .mapping(let mapping) = node else { throw error("expected a mapping, got \(kind)") }
        var result: [(String, YAMLValue)] = []
        for (key, value) in mapping {
            guard let name = key.string else { throw error("mapping keys must be strings") }
            result.append((name, child(value, name)))
        }
        return result
    }

    /// A mapping whose keys must all be in `allowed` (catches typos).
    public func fields(allowing allowed: Set<String>) throws(ConfigurationError) -> [String: YAMLValue] {
        var result: [String: YAMLValue] = [:]
        for (key, value) in try mapping() {
            guard allowed.contains(key) else {
                throw value.error("unknown field (expected one of: \(allowed.sorted().joined(separator: ", ")))")
            }
            result[key] = value
        }
        return result
    }

    /// The elements of a sequence; a single scalar counts as a one-element sequence.
    public func sequence() throws(ConfigurationError) -> [YAMLValue] {
        switch node {
        case .sequence(let sequence): return sequence.enumerated().map { child($0.element, "[\($0.offset + 1)]") }
        case .scalar: return [self]
        default: throw error("expected a list, got \(kind)")
        }
    }

    public func string() throws(ConfigurationError) -> String {
        guard case .scalar(let scalar) = node else { throw error("expected a string, got \(kind)") }
        return scalar.string
    }

    public func double() throws(ConfigurationError) -> Double {
        guard case .scalar = node, let value = node.float, value.isFinite else {
            throw error("expected a number, got \(describeScalar)")
        }
        return value
    }

    public func int() throws(ConfigurationError) -> Int {
        guard case .scalar = node, let value = node.int else { throw error("expected a whole number, got \(describeScalar)") }
        return value
    }

    public func bool() throws(ConfigurationError) -> Bool {
        guard case .scalar = node, let value = node.bool else { throw error("expected true or false, got \(describeScalar)") }
        return value
    }

    /// A number in `range`.
    public func double(in range: InputRange) throws(ConfigurationError) -> Double {
        let value = try double()
        do { return try range.check(value) } catch { throw self.error(error.message) }
    }

    /// A whole number in `range`.
    public func int(in range: InputRange) throws(ConfigurationError) -> Int {
        guard case .scalar = node else { throw error("expected a whole number, got \(describeScalar)") }
        if let value = node.int {
            do { return try range.checkWhole(Double(value)) } catch { throw self.error(error.message) }
        }
        // A number too large for Int, or written with an exponent: say so, with the range.
        guard let value = node.float else { throw error("expected a whole number, got \(describeScalar)") }
        do { return try range.checkWhole(value) } catch { throw self.error(error.message) }
    }

    /// A duration: a number of seconds or a string like `"250ms"`, `"5s"`,
    /// `"2m"`, `"1h"`, within `range` (by default any duration: 0 to 365 days).
    public func duration(in range: InputRange = .duration) throws(ConfigurationError) -> Duration {
        let seconds = try durationSeconds(in: range)
        do { return try Duration(checkedSeconds: seconds, in: range) } catch { throw self.error(error.message) }
    }

    /// A duration in seconds, within `range` (by default any duration: 0 to 365 days).
    public func durationSeconds(in range: InputRange = .duration) throws(ConfigurationError) -> Double {
        let seconds: Double
        if case .scalar = node, let value = node.float,
            node.int != nil || node.string?.contains(".") == true
                || node.string?.lowercased().contains("e") == true || node.string?.lowercased().contains("inf") == true
        {
            guard !(value < 0) else { throw error("a duration cannot be negative") }
            seconds = value
        } else {
            let text = try string()
            do {
                seconds = try DurationParser.seconds(from: text, knob: path)
            } catch {
                if error.code == .negativeDuration { throw self.error("a duration cannot be negative") }
                throw self.error("expected a duration like \"250ms\", \"5s\", \"2m\", got \"\(Self.quotePrefix(text))\"")
            }
        }
        do { return try range.check(seconds) } catch { throw self.error(error.message) }
    }

    /// A byte size: a number or `"16MiB"`, `"512KiB"`, `"1GiB"`, within `range`.
    public func byteSize(in range: InputRange) throws(ConfigurationError) -> Int {
        let bytes: Double
        if let value = node.int {
            bytes = Double(value)
        } else {
            let text = try string().trimmedOfSpaces()
            var parsed: Double?
            let units: [(String, Double)] = [("GiB", 1_073_741_824), ("MiB", 1_048_576), ("KiB", 1024), ("B", 1)]
            for (suffix, scale) in units where text.hasSuffix(suffix) {
                if let number = Double(String(text.dropLast(suffix.count)).trimmedOfSpaces()) {
                    parsed = number * scale
                }
                break
            }
            if parsed == nil, let number = node.float { parsed = number }
            guard let parsed else { throw error("expected a size like 16MiB, got \"\(Self.quotePrefix(text))\"") }
            bytes = parsed
        }
        do { return try range.checkWhole(bytes.rounded(.down)) } catch { throw self.error(error.message) }
    }

    /// At most the first 80 characters of `text`, for messages that quote what a user wrote.
    static func quotePrefix(_ text: String) -> String { text.excerpt() }

    private var kind: String {
        switch node {
        case .scalar: "a scalar (\(node.string ?? ""))"
        case .mapping: "a mapping"
        case .sequence: "a list"
        case .alias: "an alias"
        }
    }

    private var describeScalar: String {
        if case .scalar(let scalar) = node { return "\"\(scalar.string)\"" }
        return kind
    }
}

extension String {
    func trimmedOfSpaces() -> String {
        var text = Substring(self)
        while text.first == " " { text = text.dropFirst() }
        while text.last == " " { text = text.dropLast() }
        return String(text)
    }
}
