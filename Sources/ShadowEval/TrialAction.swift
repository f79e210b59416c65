/// A change to the knobs that a trial asks its caller to apply, as one atomic
/// registry step (see ``TrialCoordinator``).
public enum TrialAction: Sendable, Hashable {
    /// Set these shadow values.
    case applyShadows([String: Double])
    /// Make these knobs' shadow values live.
    case promote([String])
    /// Set these live values back (the values before promotion).
    case rollback([String: Double])
    /// Remove these knobs' shadow values.
    case clearShadows([String])
    /// Nothing to change.
    case none
}
