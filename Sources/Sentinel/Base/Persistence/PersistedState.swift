/// What the control plane saves and restores across restarts: every knob's
/// live and shadow value, the emergency freeze, and what later modules add.
///
/// ``StateFile`` writes it as JSON; see `docs/control-plane-audit.md` for the
/// format. Restoring is the caller's job: it should apply the values of knobs
/// that are still registered and report (not apply) the others.
///
/// ```swift
/// let state = PersistedState(
///     savedAt: 1_795_459_500,
///     parameters: ["checkout.retry.max_attempts": PersistedParameter(value: 2)],
///     frozen: false)
/// try StateFile(path: "/var/lib/sentinel/state.json").save(state)
/// ```
public struct PersistedState: Sendable, Hashable {
    /// The format version this build writes and reads.
    public static let currentVersion = 1

    /// The format version of the file this came from (``currentVersion`` when made here).
    public var version: Int
    /// When it was saved, in Unix seconds.
    public var savedAt: Double
    /// Knobs by full name (`checkout.retry.max_attempts`).
    public var parameters: [String: PersistedParameter]
    /// True while automation is frozen (`automation.freeze`).
    public var frozen: Bool
    /// Shadow trials, owned by ShadowEval and stored as it gives them.
    public var trials: JSONValue
    /// Room for later modules: each keeps its state under its own key.
    public var extensions: [String: JSONValue]

    /// Makes a state record.
    public init(
        version: Int = PersistedState.currentVersion, savedAt: Double, parameters: [String: PersistedParameter] = [:],
        frozen: Bool = false, trials: JSONValue = .object([:]), extensions: [String: JSONValue] = [:]
    ) {
        self.version = version
        self.savedAt = savedAt
        self.parameters = parameters
        self.frozen = frozen
        self.trials = trials
        self.extensions = extensions
    }
}
