/// What one call on a ``ShadowTrial`` produced: the knob changes to apply
/// (each one atomically, in order) and the events to report.
public struct TrialStep: Sendable, Hashable {
    /// Knob changes, in order; never contains ``TrialAction/none``.
    public var actions: [TrialAction]
    /// Events, in order.
    public var events: [TrialEvent]

    /// Makes a step.
    public init(actions: [TrialAction] = [], events: [TrialEvent] = []) {
        self.actions = actions
        self.events = events
    }

    /// The kinds of ``events``, in order.
    public var kinds: [TrialEvent.Kind] { events.map(\.kind) }
}
