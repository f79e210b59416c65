/// The deadline of the current call, as a task-local value: cooperative
/// timeouts set it, operations read it (to pass to their own client, or to
/// stop a loop), nested deadlines keep the earlier one.
///
/// ```swift
/// try await pipeline.execute {
///     if let deadline = Deadline.current { request.timeout = deadline.remaining }
///     return try await client.send(request)
/// }
/// ```
public struct Deadline: Sendable {
    /// The instant of the deadline on `source`, nanoseconds.
    public let instant: Int64
    /// The time source the instant belongs to.
    public let source: any TimeSource

    /// Makes a deadline.
    public init(instant: Int64, source: any TimeSource) {
        self.instant = instant
        self.source = source
    }

    /// The deadline of the running call, if a cooperative timeout set one.
    @TaskLocal public static var current: Deadline?

    /// Time left before the deadline (zero once it has passed).
    public var remaining: Duration {
        .nanoseconds(max(0, instant - source.now()))
    }

    /// Whether the deadline has passed.
    public var hasPassed: Bool { source.now() >= instant }

    /// Throws a timeout ``ResilienceError`` when the deadline has passed; for loops that honour it.
    public func check(pipeline: String = "") throws(ResilienceError) {
        if hasPassed {
            throw ResilienceError(.timedOut, pipeline: pipeline, "\(pipeline): deadline passed")
        }
    }
}
