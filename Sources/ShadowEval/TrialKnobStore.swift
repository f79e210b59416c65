import Resilience

/// Where a ``TrialCoordinator`` reads live values and applies knob changes.
/// ``ParameterRegistry`` is one.
public protocol TrialKnobStore: AnyObject, Sendable {
    /// The live value of a knob.
    func value(_ name: String) throws(KnobError) -> Double
    /// Applies every operation as one step, or none of them.
    func apply(_ operations: [KnobOperation]) throws(KnobError)
}

extension ParameterRegistry: TrialKnobStore {}
