/// The async shell of a timeout policy inside a pipeline.
final class TimeoutRunner: Sendable {
    let mode: Timeout.Mode
    let durationSlot: Int

    init(mode: Timeout.Mode, durationSlot: Int) {
        self.mode = mode
        self.durationSlot = durationSlot
    }

    /// What a shadow duration would have made of a call (the synchronous core).
    ///
    /// - Returns: `nil` when the shadow agrees with live, else the shadow outcome.
    static func judgeShadow(liveTimedOut: Bool, latency: Int64, live: Int64, shadow: Int64) -> Outcome? {
        if liveTimedOut {
            // Live gave up at `live`; a longer shadow would have waited longer: nobody knows.
            return shadow > live ? .unknown : nil
        }
        return latency >= shadow ? .timeout : nil
    }
}

/// The result of racing an operation against a timer in a task group.
enum TimeoutRace<T: Sendable>: Sendable {
    case finished(T, CallState)
    case timedOut
}
