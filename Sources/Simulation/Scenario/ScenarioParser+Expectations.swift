import Resilience
import Sentinel

/// `expect`: what must hold at the end of a run.
extension ScenarioParser {
    func parseExpectations(_ node: YAMLValue, pipelines: [PipelineSpec]) throws(ConfigurationError) -> [Expectation] {
        let subjects = ["param", "param_max", "param_min", "audit", "calls", "error_rate", "breaker", "trial"]
        var result: [Expectation] = []
        for item in try node.sequence() {
            let f = try item.fields(
                allowing: Set(
                    subjects + [
                        "equals", "at_least", "at_most", "between", "count_at_least", "count_at_most", "count_equals",
                    ]))
            let given = subjects.filter { f[$0] != nil }
            guard given.count == 1, let key = given.first, let subjectNode = f[key] else {
                throw item.error("each expectation has one subject: \(subjects.joined(separator: ", "))")
            }
            let subject: Expectation.Subject
            switch key {
            case "param": subject = .param(try subjectNode.string())
            case "param_max": subject = .paramMax(try subjectNode.string())
            case "param_min": subject = .paramMin(try subjectNode.string())
            case "audit":
                let a = try subjectNode.fields(allowing: ["action", "target", "outcome", "actor"])
                if let outcome = a["outcome"], AuditOutcome(rawValue: try outcome.string()) == nil {
                    throw outcome.error("expected one of \(AuditOutcome.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                subject = .audit(
                    Expectation.AuditFilter(
                        action: try a["action"]?.string(), target: try a["target"]?.string(),
                        outcome: try a["outcome"]?.string(), actor: try a["actor"]?.string()))
            case "calls", "error_rate":
                let target = try subjectNode.string()
                try checkTarget(target, subjectNode, pipelines)
                subject = key == "calls" ? .calls(target) : .errorRate(target)
            case "trial":
                subject = .trial(try subjectNode.string())
            default:
                let pipeline = try subjectNode.string()
                guard let spec = pipelines.first(where: { $0.name == pipeline }) else { throw subjectNode.error("no pipeline \(pipeline)") }
                guard spec.components.contains(where: { $0.policyName == "breaker" }) else {
                    throw subjectNode.error("pipeline \(pipeline) has no breaker")
                }
                subject = .breaker(pipeline)
            }
            var comparisons: [Expectation.Comparison] = []
            let isAudit = key == "audit"
            for (name, kind) in [
                ("equals", 0), ("at_least", 1), ("at_most", 2), ("between", 3),
                ("count_equals", 0), ("count_at_least", 1), ("count_at_most", 2),
            ] {
                guard let value = f[name] else { continue }
                guard name.hasPrefix("count_") == isAudit else {
                    throw value.error(
                        isAudit
                            ? "an audit expectation counts entries: use count_equals, count_at_least or count_at_most"
                            : "count_* comparisons are for audit expectations")
                }
                switch kind {
                case 0:
                    let expected = try value.jsonValue()
                    switch expected {
                    case .int, .double, .string: comparisons.append(.equals(expected))
                    default: throw value.error("expected a number or a string")
                    }
                case 1: comparisons.append(.atLeast(try value.double()))
                case 2: comparisons.append(.atMost(try value.double()))
                default:
                    let bounds = try value.sequence()
                    guard bounds.count == 2 else { throw value.error("expected [low, high]") }
                    let low = try bounds[0].double(), high = try bounds[1].double()
                    guard low <= high else { throw value.error("low (\(low)) is above high (\(high))") }
                    comparisons.append(.between(low, high))
                }
            }
            guard !comparisons.isEmpty else {
                throw item.error(isAudit ? "add count_equals, count_at_least or count_at_most" : "add equals, at_least, at_most or between")
            }
            result.append(Expectation(subject: subject, comparisons: comparisons, location: SourceLocation(item, file: file)))
        }
        return result
    }

    func checkTarget(_ target: String, _ node: YAMLValue, _ pipelines: [PipelineSpec]) throws(ConfigurationError) {
        let parts = target.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        guard let spec = pipelines.first(where: { $0.name == parts[0] }), parts.count <= 2 else {
            throw node.error("no pipeline \(target) (give PIPELINE or PIPELINE.VARIANT)")
        }
        if parts.count == 2, !spec.variants.contains(parts[1]) {
            throw node.error("pipeline \(spec.name) has no split variant \(parts[1])")
        }
    }
}
