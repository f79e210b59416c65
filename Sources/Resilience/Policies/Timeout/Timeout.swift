/// Bounds how long a call may take.
///
/// Knob: `<pipeline>.timeout.duration` (seconds, 0.000001...86400).
///
/// - ``Mode-swift.enum/enforced``: the operation runs in a child task that is
///   cancelled at the deadline, and the call throws `ResilienceError.timedOut`.
///   The caller's own task is never cancelled, so an outer Retry keeps working.
///   Costs a child task per call (see `docs/performance-resilience.md`).
/// - ``Mode-swift.enum/cooperative``: the deadline becomes ``Deadline/current``
///   for the operation to honour; no child task. When the operation returns
///   after the deadline, its result is dropped and the call times out.
///
/// Shadow: a shorter shadow duration is judged exactly (the call would have
/// timed out if it took longer); a longer one is judged only when the live
/// call finished in time; when live timed out, the shadow outcome is unknown.
public struct Timeout: PipelinePolicy {
    /// How the deadline is enforced.
    public enum Mode: String, Sendable, Hashable {
        /// A child task cancelled at the deadline.
        case enforced
        /// A task-local deadline the operation honours; checked again on return.
        case cooperative
    }

    /// The initial duration.
    public var duration: Duration
    /// How the deadline is enforced.
    public var mode: Mode

    /// Makes a timeout policy.
    public init(_ duration: Duration, mode: Mode = .enforced) {
        self.duration = duration
        self.mode = mode
    }

    /// The policy as a pipeline component.
    public var component: PipelineComponent { PipelineComponent(.timeout(self)) }

    static func knobs(_ pipeline: String, _ spec: Timeout) -> [KnobDescriptor] {
        [
            KnobDescriptor(
                name: "\(pipeline).timeout.duration", kind: .duration, minimum: 0.000001, maximum: 86400,
                defaultValue: spec.duration.secondsDouble, description: "Longest a call may take", refusesZero: true)
        ]
    }
}
