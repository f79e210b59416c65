/// The guards in force: per-knob limits and the cap on commands per evaluation.
/// None apply unless configured.
public struct GuardPolicy: Sendable, Hashable {
    public var parameters: [ParameterGuard]
    /// The most commands one script may issue in one evaluation; the rest
    /// are rejected (and audited) one by one.
    public var maxCommandsPerEvaluation: Int?

    public init(parameters: [ParameterGuard] = [], maxCommandsPerEvaluation: Int? = nil) {
        self.parameters = parameters
        self.maxCommandsPerEvaluation = maxCommandsPerEvaluation
    }

    /// The guards that apply to `parameter` (lazily: no array per command).
    func guards(for parameter: String) -> LazyFilterSequence<[ParameterGuard]> {
        parameters.lazy.filter { $0.pattern.matches(parameter) }
    }
}
