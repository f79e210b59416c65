/// The async shell of a retry policy inside a pipeline.
final class RetryRunner: Sendable {
    let backoff: Backoff
    let jitter: Jitter
    let shouldRetry: @Sendable (any Error) -> Bool
    let budget: RetryBudget?
    let slots: (maxAttempts: Int, baseDelay: Int, maxDelay: Int, multiplier: Int, budgetRatio: Int?)

    init(spec: Retry, firstSlot: Int) {
        backoff = spec.settings.backoff
        jitter = spec.settings.jitter
        shouldRetry = spec.shouldRetry
        budget = spec.budgetRatio.map { _ in RetryBudget(reserve: spec.budgetReserve) }
        slots = (firstSlot, firstSlot + 1, firstSlot + 2, firstSlot + 3, spec.budgetRatio == nil ? nil : firstSlot + 4)
    }

    @inline(__always)
    func settings(_ snapshot: KnobSnapshot, shadow: Bool = false) -> RetrySettings {
        func read(_ slot: Int) -> Double { shadow ? snapshot.effectiveShadow(slot) : snapshot.value(slot) }
        return RetrySettings(
            maxAttempts: Int(read(slots.maxAttempts)), baseDelay: read(slots.baseDelay), maxDelay: read(slots.maxDelay),
            multiplier: read(slots.multiplier), backoff: backoff, jitter: jitter)
    }

    /// Whether any retry knob has a shadow in this snapshot.
    @inline(__always)
    func isShadowed(_ snapshot: KnobSnapshot) -> Bool {
        snapshot.shadowMask & (1 << UInt32(slots.maxAttempts)) != 0
    }
}
