import Resilience

/// Why a trial could not be started or advanced.
public enum TrialError: Error, Sendable, Hashable {
    /// The configuration is not usable; the string says why.
    case invalidConfiguration(String)
    /// A trial with this name already exists and has not ended.
    case duplicateName(String)
    /// No trial has this name.
    case unknownTrial(String)
    /// The registry refused a change; nothing of that change was applied.
    case knob(KnobError)
}
