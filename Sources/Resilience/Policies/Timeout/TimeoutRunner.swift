/// The async shell of a timeout policy inside a pipeline.
final class TimeoutRunner: Sendable {
    let mode: Timeout.Mode
    let durationSlot: Int

    init(mode: Timeout.Mode, durationSlot: Int) {
        self.mode = mode
        self.durationSlot = durationSlot
    }
}

/// The result of racing an operation against a timer in a task group.
enum TimeoutRace<T: Sendable>: Sendable {
    /// The value, and the call state as the stages inside the timeout left it (`nil` when there are none).
    case finished(T, CallState?)
    case timedOut
}
