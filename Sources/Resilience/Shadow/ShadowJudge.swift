/// What a shadow configuration would have made of a call, given what the live
/// configuration did: the synchronous cores of shadow evaluation, shared by the
/// pipelines and the simulator.
///
/// Each function returns `nil` when the shadow would have done the same as
/// live, `.unknown` when that cannot be known (a looser shadow after a live
/// refusal or timeout), or the shadow's own outcome.
public enum ShadowJudge {
    /// Timeout: live duration `live`, shadow duration `shadow`, nanoseconds.
    @inlinable
    public static func timeout(liveTimedOut: Bool, latency: Int64, live: Int64, shadow: Int64) -> Outcome? {
        if liveTimedOut {
            // Live gave up at `live`; a longer shadow would have waited longer: nobody knows.
            return shadow > live ? .unknown : nil
        }
        return latency >= shadow ? .timeout : nil
    }

    /// Retry: live made `attempts` attempts of at most `liveMax`; the shadow allows `shadowMax`.
    ///
    /// - Parameters:
    ///   - ranOut: live stopped only because it reached its own maximum.
    ///   - outcomeAtShadowLimit: the outcome of attempt number `shadowMax`, if live made it.
    @inlinable
    public static func retry(
        attempts: Int, succeeded: Bool, ranOut: Bool, liveMax: Int, shadowMax: Int,
        outcomeAtShadowLimit: Outcome?
    ) -> Outcome? {
        if attempts > shadowMax {
            return outcomeAtShadowLimit ?? .failure  // the shadow would have stopped earlier, failing
        }
        if !succeeded && ranOut && shadowMax > liveMax { return .unknown }
        return nil
    }

    /// Bulkhead: the in-use and queued counts the call found, and the shadow's limits.
    @inlinable
    public static func bulkhead(
        liveAdmitted: Bool, inUseBefore: Int, queuedBefore: Int,
        shadowCapacity: Int, shadowQueue: Int
    ) -> Outcome? {
        let shadowWouldStart = inUseBefore < shadowCapacity && queuedBefore == 0
        if liveAdmitted {
            if shadowWouldStart { return nil }
            return queuedBefore >= shadowQueue ? .rejectedByBulkhead : .unknown
        }
        return shadowWouldStart || queuedBefore < shadowQueue ? .unknown : nil
    }

    /// Breaker or rate limiter: whether live and the shadow machine admitted the call.
    @inlinable
    public static func admission(liveAdmitted: Bool, shadowAdmitted: Bool, rejection: Outcome) -> Outcome? {
        switch (liveAdmitted, shadowAdmitted) {
        case (true, false): rejection
        case (false, true): .unknown
        default: nil
        }
    }
}
