import Sentinel

/// One `expect` item: a subject measured at the end of the run and the
/// comparisons it must pass.
public struct Expectation: Sendable {
    public enum Subject: Sendable, Hashable {
        /// A knob's final live value.
        case param(String)
        /// The largest live value a knob had during the run.
        case paramMax(String)
        /// The smallest live value a knob had during the run.
        case paramMin(String)
        /// How many audit entries match (every given field equal).
        case audit(AuditFilter)
        /// Calls over the whole run (`pipeline` or `pipeline.variant`).
        case calls(String)
        /// Failures over calls over the whole run.
        case errorRate(String)
        /// A pipeline's final breaker state.
        case breaker(String)
        /// A shadow trial's final status.
        case trial(String)
    }

    public struct AuditFilter: Sendable, Hashable {
        public var action: String?
        public var target: String?
        public var outcome: String?
        public var actor: String?

        func matches(_ entry: AuditEntry) -> Bool {
            (action == nil || action == entry.action) && (target == nil || target == entry.target)
                && (outcome == nil || outcome == entry.outcome.rawValue) && (actor == nil || actor == entry.actor)
        }

        var summary: String {
            var parts: [String] = []
            if let action { parts.append("action=\(action)") }
            if let target { parts.append("target=\(target)") }
            if let outcome { parts.append("outcome=\(outcome)") }
            if let actor { parts.append("actor=\(actor)") }
            return parts.isEmpty ? "any" : parts.joined(separator: " ")
        }
    }

    public enum Comparison: Sendable, Hashable {
        case equals(JSONValue)
        case atLeast(Double)
        case atMost(Double)
        case between(Double, Double)

        var summary: String {
            switch self {
            case .equals(let value): "equals \(value.plainText)"
            case .atLeast(let bound): "at least \(trimmed(bound, digits: 6))"
            case .atMost(let bound): "at most \(trimmed(bound, digits: 6))"
            case .between(let low, let high): "between \(trimmed(low, digits: 6)) and \(trimmed(high, digits: 6))"
            }
        }

        func holds(for actual: JSONValue) -> Bool {
            switch self {
            case .equals(let expected):
                if let a = actual.number, let e = expected.number { return abs(a - e) <= 1e-9 }
                return actual.plainText == expected.plainText
            case .atLeast(let bound): return (actual.number ?? .nan) >= bound
            case .atMost(let bound): return (actual.number ?? .nan) <= bound
            case .between(let low, let high):
                guard let a = actual.number else { return false }
                return a >= low && a <= high
            }
        }
    }

    public var subject: Subject
    public var comparisons: [Comparison]
    var location: SourceLocation

    /// `param checkout.split.canary_weight equals 100`.
    public var assertion: String {
        let subjectText: String
        switch subject {
        case .param(let name): subjectText = "param \(name)"
        case .paramMax(let name): subjectText = "param_max \(name)"
        case .paramMin(let name): subjectText = "param_min \(name)"
        case .audit(let filter): subjectText = "audit count (\(filter.summary))"
        case .calls(let target): subjectText = "calls \(target)"
        case .errorRate(let target): subjectText = "error_rate \(target)"
        case .breaker(let pipeline): subjectText = "breaker \(pipeline)"
        case .trial(let name): subjectText = "trial \(name)"
        }
        return subjectText + " " + comparisons.map(\.summary).joined(separator: " and ")
    }
}

/// The verdict on one expectation.
public struct ExpectationResult: Sendable {
    public var assertion: String
    public var passed: Bool
    public var actual: JSONValue

    var jsonValue: JSONValue {
        ["assertion": .string(assertion), "passed": .bool(passed), "actual": actual]
    }
}

extension JSONValue {
    var number: Double? {
        switch self {
        case .int(let value): Double(value)
        case .double(let value): value
        default: nil
        }
    }

    /// `100`, `0.25`, `closed`.
    var plainText: String {
        switch self {
        case .null: "null"
        case .bool(let flag): "\(flag)"
        case .int(let value): "\(value)"
        case .double(let value): trimmed(value, digits: 6)
        case .string(let text): text
        case .array, .object: jsonString()
        }
    }
}
