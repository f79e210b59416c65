/// What one evaluation produced.
struct EvaluationRecord: Sendable {
    var commands: [QueuedCommand] = []
    var alerts: [Alert] = []
    var logs: [ScriptLogLine] = []
    var gates: [GateRequest] = []
}
