/// What one evaluation produced.
///
/// Log lines and decisions are bounded per evaluation (a loop that logs on
/// every pass must not hold megabytes outside the script's memory cap): past
/// ``ScriptLogLine/maximumPerEvaluation`` and
/// ``ScriptDecision/maximumPerEvaluation`` they are counted, not kept, and
/// ``finished()`` adds one log line that says how many were dropped.
struct EvaluationRecord: Sendable {
    var commands: [QueuedCommand] = []
    var alerts: [Alert] = []
    private(set) var logs: [ScriptLogLine] = []
    private(set) var decisions: [ScriptDecision] = []
    var gates: [GateRequest] = []
    /// Log lines and decisions past their limits.
    private(set) var droppedLogLines = 0
    private(set) var droppedDecisions = 0

    mutating func append(_ line: ScriptLogLine) {
        guard logs.count < ScriptLogLine.maximumPerEvaluation else {
            droppedLogLines += 1
            return
        }
        logs.append(line)
    }

    mutating func append(_ decision: ScriptDecision) {
        guard decisions.count < ScriptDecision.maximumPerEvaluation else {
            droppedDecisions += 1
            return
        }
        decisions.append(decision)
    }

    /// The record once `evaluate` returned: with one more log line, at
    /// warning, when anything was dropped.
    func finished() -> EvaluationRecord {
        guard droppedLogLines > 0 || droppedDecisions > 0 else { return self }
        var dropped: [String] = []
        if droppedLogLines > 0 {
            dropped.append("\(droppedLogLines) log \(droppedLogLines == 1 ? "line" : "lines")")
        }
        if droppedDecisions > 0 {
            dropped.append("\(droppedDecisions) \(droppedDecisions == 1 ? "decision" : "decisions")")
        }
        var record = self
        record.logs.append(
            ScriptLogLine(
                level: .warning,
                message: "dropped \(dropped.joined(separator: " and ")) of this evaluation (it keeps at most "
                    + "\(ScriptLogLine.maximumPerEvaluation) log lines and \(ScriptDecision.maximumPerEvaluation) decisions)"))
        return record
    }
}
