/// One policy of a built pipeline, with its runtime state.
///
/// The payloads are unowned: the pipeline keeps every stage object alive in
/// `stageOwners`, and dispatching on a stage happens on every call, where a
/// retain and release per stage would be measurable.
enum Stage: Sendable {
    case timeout(Unowned<TimeoutRunner>)
    case retry(Unowned<RetryRunner>)
    case breaker(Unowned<BreakerGate>)
    case bulkhead(Unowned<BulkheadGate>)
    case rateLimit(Unowned<RateLimitGate>)
    case split(Unowned<SplitRouter>)
}

/// A reference that does not keep its object alive; its owner guarantees the lifetime.
struct Unowned<Object: AnyObject & Sendable>: @unchecked Sendable {
    // @unchecked: wraps a Sendable object; `unowned(unsafe)` only removes refcounting.
    unowned(unsafe) let object: Object

    init(_ object: Object) { self.object = object }
}
