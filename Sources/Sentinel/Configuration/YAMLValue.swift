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
    public static func parse(_ text: String, file: String?) throws(ConfigurationError) -> YAMLValue {
        do {
            let node = try Yams.compose(yaml: text) ?? Node.mapping(.init([]))
            return YAMLValue(node: node, path: "", file: file)
        } catch let error as YamlError {
            throw ConfigurationError(file: file, line: Self.line(of: error), message: "not valid YAML: \(Self.describe(error))")
        } catch {
            throw ConfigurationError(file: file, message: "not valid YAML: \(error)")
        }
    }

    private static func line(of error: YamlError) -> Int? {
        switch error {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _):
            return mark.line
        default:
            return nil
        }
    }

    private static func describe(_ error: YamlError) -> String {
        switch error {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _):
            return problem
        default:
            return "\(error)"
        }
    }

    /// The 1-based line of this node.
    public var line: Int? { node.mark.map { $0.line } }

    /// An error at this node.
    public func error(_ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, field: path.isEmpty ? nil : path, message: message)
    }

    private func child(_ node: Node, _ component: String) -> YAMLValue {
        let path = component.hasPrefix("[") ? self.path + component : (self.path.isEmpty ? component : self.path + "." + component)
        return YAMLValue(node: node, path: path, file: file)
    }

    // MARK: - Shapes

    public var isNull: Bool {
        if case .scalar(let scalar) = node { return scalar.string == "~" || scalar.string == "null" || (scalar.string.isEmpty && scalar.style == .plain) }
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

    /// A duration: a number of seconds or a string like `"250ms"`, `"5s"`, `"2m"`, `"1h"`.
    public func duration() throws(ConfigurationError) -> Duration {
        let seconds = try durationSeconds()
        return .nanoseconds(Int64((seconds * 1e9).rounded()))
    }

    /// A duration in seconds.
    public func durationSeconds() throws(ConfigurationError) -> Double {
        if case .scalar = node, let value = node.float, node.int != nil || node.string?.contains(".") == true {
            guard value >= 0, value.isFinite else { throw error("a duration cannot be negative") }
            return value
        }
        let text = try string()
        do {
            let seconds = try DurationParser.seconds(from: text, knob: path)
            guard seconds >= 0 else { throw error("a duration cannot be negative") }
            return seconds
        } catch let failure as ConfigurationError {
            throw failure
        } catch {
            throw self.error("expected a duration like \"250ms\", \"5s\", \"2m\", got \"\(text)\"")
        }
    }

    /// A byte size: a number or `"16MiB"`, `"512KiB"`, `"1GiB"`.
    public func byteSize() throws(ConfigurationError) -> Int {
        if let value = node.int, value >= 0 { return value }
        let text = try string().trimmedOfSpaces()
        let units: [(String, Int)] = [("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10), ("B", 1)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            if let number = Double(String(text.dropLast(suffix.count)).trimmedOfSpaces()), number >= 0 {
                return Int(number * Double(scale))
            }
        }
        throw error("expected a size like 16MiB, got \"\(text)\"")
    }

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
