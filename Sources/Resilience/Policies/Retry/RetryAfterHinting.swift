/// An error that tells how long to wait before the next attempt, such as an
/// HTTP answer with `Retry-After` or a ``ResilienceError`` from a rate limiter.
///
/// A pipeline's ``Retry`` reads the hint of an error it has decided to retry
/// and waits at least that long: the delay is `max(backoff delay, hint)`. A
/// hint longer than the retry's `max_delay` ends the call at once with that
/// error instead (the operators' `max_delay` bounds how long a call may wait,
/// and an attempt sooner than the hint would most likely be refused again),
/// so the caller learns at once and can pass the hint on. A missing, zero or
/// negative hint changes nothing.
///
/// Errors the retry does not retry (cancellation, rejections under the
/// default predicate, errors whose ``RetryClassifying/isRetryable`` is false)
/// are never read for a hint, so an open breaker's `retryAfter` makes no call
/// wait that would not have been retried anyway.
///
/// ```swift
/// struct Throttled: Error, RetryAfterHinting {
///     var retryAfter: Duration?
/// }
/// ```
public protocol RetryAfterHinting: Error {
    /// The least time to wait before the next attempt, if the error knows.
    var retryAfter: Duration? { get }
}

/// An error that knows whether another attempt may succeed.
///
/// ``Retry/defaultPredicate`` returns ``isRetryable`` for such errors (after
/// refusing cancellation and policy rejections as before), so an integration
/// can classify its failures (an HTTP 503 is worth another attempt, a 500 is
/// not) without every pipeline passing its own predicate. A custom
/// `shouldRetry` decides alone; call `Retry.defaultPredicate` from it to keep
/// this.
public protocol RetryClassifying: Error {
    /// Whether another attempt may succeed.
    var isRetryable: Bool { get }
}

extension ResilienceError: RetryAfterHinting {}

extension RetryCore {
    /// Whether a retry may honour a `Retry-After` hint of `hint` seconds: not when it is
    /// beyond the largest backoff delay (`max_delay`, or `base_delay` when that is larger).
    @inlinable
    public static func accepts(hint: Double, settings: RetrySettings) -> Bool {
        hint <= max(settings.baseDelay, settings.maxDelay)
    }

    /// The hint of `error` in seconds, when it has a positive one.
    @inline(__always)
    static func retryAfterHint(of error: any Error) -> Double? {
        guard let hinting = error as? any RetryAfterHinting, let after = hinting.retryAfter else { return nil }
        let seconds = after.secondsDouble
        return seconds > 0 ? seconds : nil
    }
}
