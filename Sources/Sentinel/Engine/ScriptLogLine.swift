/// A line a script wrote with `sentinel.log`.
///
/// Its message is the script's own text, bounded at the call to
/// ``ScriptEngine/maximumLoggedText`` characters; one evaluation keeps at most
/// ``maximumPerEvaluation`` lines (see ``EvaluationRecord``).
public struct ScriptLogLine: Sendable, Hashable {
    public enum Level: String, Sendable, Hashable, CaseIterable { case debug, info, warning, error }

    /// Lines one evaluation keeps; the ones past it are counted, and one more
    /// line at `warning` says how many were dropped.
    public static let maximumPerEvaluation = 50

    public var level: Level
    public var message: String

    public init(level: Level, message: String) {
        self.level = level
        self.message = message
    }
}
