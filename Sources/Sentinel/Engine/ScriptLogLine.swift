/// A line written with `sentinel.log`.
struct ScriptLogLine: Sendable, Hashable {
    enum Level: String, Sendable, CaseIterable { case debug, info, warning, error }
    var level: Level
    var message: String
}
