/// Limits how many calls run at once, with a bounded queue for the rest.
///
/// Knobs (under `<pipeline>.bulkhead.`): `max_concurrent` (1...100000),
/// `max_queued` (0...100000), `queue_timeout` (seconds, 0...3600; `0` = wait
/// until a permit comes or the caller is cancelled). A change applies at once:
/// shrinking lets calls in flight finish (no new ones start until in-use falls
/// below the new capacity); growing wakes waiters immediately.
///
/// Shadow: a smaller shadow capacity is judged (a call that found the shadow
/// capacity in use would have queued — unknown — or been refused when the
/// shadow queue was full too); a larger one turns live refusals into unknown.
public struct Bulkhead: PipelinePolicy {
    /// Initial calls allowed at once.
    public var maxConcurrent: Int
    /// Initial queue length.
    public var maxQueued: Int
    /// Initial longest wait in the queue (`.zero` = no limit).
    public var queueTimeout: Duration

    /// Makes a bulkhead policy.
    public init(maxConcurrent: Int, maxQueued: Int = 0, queueTimeout: Duration = .zero) {
        self.maxConcurrent = maxConcurrent
        self.maxQueued = maxQueued
        self.queueTimeout = queueTimeout
    }

    /// The policy as a pipeline component.
    public var component: PipelineComponent { PipelineComponent(.bulkhead(self)) }

    static func knobs(_ pipeline: String, _ spec: Bulkhead) -> [KnobDescriptor] {
        let p = "\(pipeline).bulkhead"
        return [
            KnobDescriptor(
                name: "\(p).max_concurrent", kind: .integer, minimum: 1, maximum: 100_000,
                defaultValue: Double(spec.maxConcurrent), description: "Calls allowed at once", refusesZero: true),
            KnobDescriptor(
                name: "\(p).max_queued", kind: .integer, minimum: 0, maximum: 100_000,
                defaultValue: Double(spec.maxQueued), description: "Calls allowed to wait for a permit"),
            KnobDescriptor(
                name: "\(p).queue_timeout", kind: .duration, minimum: 0, maximum: 3600,
                defaultValue: spec.queueTimeout.secondsDouble, description: "Longest wait in the queue (0 = no limit)"),
        ]
    }
}
