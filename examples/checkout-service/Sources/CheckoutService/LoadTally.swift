/// What the load generator saw: answers by status and by upstream, transport
/// errors, and the latencies of the answered requests.
struct LoadTally: Sendable {
    var sent = 0
    /// Not sent: the concurrency limit was reached (the target cannot keep up).
    var skipped = 0
    var statuses: [UInt: Int] = [:]
    var servedBy: [String: Int] = [:]
    var transportErrors: [String: Int] = [:]
    var latencies: [Double] = []

    var answered: Int { statuses.values.reduce(0, +) }
    var unanswered: Int { sent - answered - transportErrors.values.reduce(0, +) }

    /// The answers only a policy of the route's pipeline gives (429, 503, 504):
    /// the inventory's failures reach the client as 502.
    var refusedByMiddleware: Int { statuses[429, default: 0] + statuses[503, default: 0] + statuses[504, default: 0] }

    func quantile(_ q: Double) -> Double {
        guard !latencies.isEmpty else { return 0 }
        let sorted = latencies.sorted()
        return sorted[min(sorted.count - 1, Int(q * Double(sorted.count)))]
    }

    /// One line, for the progress log.
    var summary: String {
        let codes = statuses.keys.sorted().map { "\($0): \(statuses[$0]!)" }.joined(separator: ", ")
        let upstreams = servedBy.keys.sorted().map { "\($0) \(servedBy[$0]!)" }.joined(separator: ", ")
        let errors = transportErrors.values.reduce(0, +)
        let answers = codes.isEmpty ? "no answers" : codes
        return "\(sent) sent; \(answers); served by \(upstreams.isEmpty ? "none" : upstreams); \(errors) transport errors"
    }

    /// The final report, as JSON (keys sorted, for scripts).
    var json: String {
        func object(_ pairs: [(String, Int)]) -> String {
            "{" + pairs.sorted { $0.0 < $1.0 }.map { "\"\($0.0)\": \($0.1)" }.joined(separator: ", ") + "}"
        }
        return """
            {"sent": \(sent), "skipped": \(skipped), "answered": \(answered), "unanswered": \(unanswered), \
            "refused_by_middleware": \(refusedByMiddleware), \
            "statuses": \(object(statuses.map { (String($0.key), $0.value) })), \
            "served_by": \(object(servedBy.map { ($0.key, $0.value) })), \
            "transport_errors": \(object(transportErrors.map { ($0.key, $0.value) })), \
            "p50_ms": \(quantile(0.5) * 1000), "p99_ms": \(quantile(0.99) * 1000)}
            """
    }
}
