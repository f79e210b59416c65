import Resilience

/// What a change that is not a command passes: a shadow trial's promotion or
/// rollback, its shadows. Commands pass authorization, the freeze (for
/// scripts) and every guard; these pass what their kind needs, no more:
///
/// | kind | bounds (`min`, `max`) | steps | `min_interval` | the freeze |
/// | --- | --- | --- | --- | --- |
/// | ``promotion`` | yes | yes | yes | holds it |
/// | ``rollback`` | yes | no | no | holds it |
/// | ``shadows`` | yes | no | no | no (a shadow changes no live value) |
///
/// A rollback is never blocked by a step or interval guard meant for a ramp;
/// the freeze holds it, since no automated change may touch a live value
/// while an operator has frozen automation. The knobs' own bounds always apply.
public struct ChangeRules: Sendable, Hashable {
    /// Whether the freeze holds the change (for actors other than operators).
    public var heldByFreeze: Bool
    /// Whether `max_step_up` and `max_step_down` apply.
    public var stepGuards: Bool
    /// Whether `min_interval` applies (and the change counts for later intervals).
    public var intervalGuards: Bool

    public init(heldByFreeze: Bool, stepGuards: Bool, intervalGuards: Bool) {
        self.heldByFreeze = heldByFreeze
        self.stepGuards = stepGuards
        self.intervalGuards = intervalGuards
    }

    /// A trial's promotion: like a `param.set`.
    public static let promotion = ChangeRules(heldByFreeze: true, stepGuards: true, intervalGuards: true)
    /// Back to the values before a change: bounds only; held by the freeze.
    public static let rollback = ChangeRules(heldByFreeze: true, stepGuards: false, intervalGuards: false)
    /// Shadow values set or cleared: bounds only.
    public static let shadows = ChangeRules(heldByFreeze: false, stepGuards: false, intervalGuards: false)
}
