/// Counters of an ``AuditLog``: what was appended, and what its sinks could
/// not keep.
///
/// Alert on ``droppedEntries`` above zero (entries that reached no file) and
/// on ``pendingEntries`` staying above zero (a sink has been failing).
public struct AuditStatistics: Sendable, Hashable {
    /// Entries appended since the log was made.
    public var appended: Int
    /// Entries in the in-memory ring now (at most its capacity).
    public var retained: Int
    /// Entries appended since the log was made, by outcome.
    public var byOutcome: [AuditOutcome: Int]
    /// Failed sink calls (writes, retries, flushes, closes). A sink that fails
    /// for a minute while entries arrive counts once per attempt.
    public var sinkFailures: Int
    /// Entries that some sink will never get: its pending queue was full, or
    /// the log was closed before they could be written.
    public var droppedEntries: Int
    /// Entries waiting in sinks' pending queues to be retried.
    public var pendingEntries: Int
    /// The most recent sink failure, if any.
    public var lastError: AuditSinkFailure?

    /// Makes a set of counters.
    public init(
        appended: Int = 0, retained: Int = 0, byOutcome: [AuditOutcome: Int] = [:], sinkFailures: Int = 0,
        droppedEntries: Int = 0, pendingEntries: Int = 0, lastError: AuditSinkFailure? = nil
    ) {
        self.appended = appended
        self.retained = retained
        self.byOutcome = byOutcome
        self.sinkFailures = sinkFailures
        self.droppedEntries = droppedEntries
        self.pendingEntries = pendingEntries
        self.lastError = lastError
    }
}
