import Synchronization

/// A bounded stream of ``PolicyEvent``s that never blocks the request path:
/// when the reader lags and the buffer is full, new events are dropped and
/// counted in ``dropped``.
public final class EventStream: Sendable {
    /// The events, for one reader.
    public let events: AsyncStream<PolicyEvent>
    private let continuation: AsyncStream<PolicyEvent>.Continuation
    private let droppedCount = Atomic<Int>(0)

    /// Makes a stream that buffers at most `capacity` unread events.
    public init(capacity: Int = 1024) {
        (events, continuation) = AsyncStream<PolicyEvent>.makeStream(bufferingPolicy: .bufferingOldest(max(1, capacity)))
    }

    /// Events dropped because the buffer was full.
    public var dropped: Int { droppedCount.load(ordering: .relaxed) }

    /// Offers an event; drops and counts it if the buffer is full.
    public func emit(_ event: PolicyEvent) {
        if case .dropped = continuation.yield(event) {
            droppedCount.wrappingAdd(1, ordering: .relaxed)
        }
    }

    /// Ends the stream.
    public func finish() { continuation.finish() }
}
