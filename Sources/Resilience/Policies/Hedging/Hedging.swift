/// Starts another attempt when the first is slow; the first success wins and
/// the others are cancelled.
///
/// Knob: `delay` is an ``Adaptive`` duration, so it can be tuned at run time.
/// The synchronous core is ``HedgingCore``; this shell runs attempts as child
/// tasks of a task group (one per attempt started).
public struct Hedging<C: Clock>: Sendable where C.Duration == Duration {
    /// Time to wait for an attempt before starting the next one.
    public let delay: Adaptive<Duration>
    /// Attempts in all, the first included.
    public let maxAttempts: Int
    /// The clock the delays are measured on.
    public let clock: C

    /// Makes a hedging policy.
    public init(delay: Adaptive<Duration>, maxAttempts: Int = 2, clock: C) {
        self.delay = delay
        self.maxAttempts = max(1, maxAttempts)
        self.clock = clock
    }

    /// Runs `operation` (given the 1-based attempt number), hedging slow attempts.
    /// If every attempt fails, the last failure is thrown.
    public func execute<T: Sendable>(_ operation: @escaping @Sendable (Int) async throws -> T) async throws -> T {
        let delay = self.delay.value
        let clock = self.clock
        let maxAttempts = self.maxAttempts
        return try await withThrowingTaskGroup(of: HedgeEvent<T>.self) { group in
            var core = HedgingCore(maxAttempts: maxAttempts)
            group.addTask { await HedgeEvent(attempt: 1) { try await operation(1) } }
            core.started()
            if core.canStartMore {
                group.addTask {
                    try await clock.sleep(for: delay); return .timer
                }
            }
            var lastError: (any Error)?
            while let event = try await group.next() {
                switch event {
                case .timer:
                    guard core.canStartMore else { continue }
                    let attempt = core.started()
                    group.addTask { await HedgeEvent(attempt: attempt) { try await operation(attempt) } }
                    if core.canStartMore {
                        group.addTask {
                            try await clock.sleep(for: delay); return .timer
                        }
                    }
                case .success(let value):
                    group.cancelAll()
                    return value
                case .failure(let error):
                    lastError = error
                    core.failed()
                    if core.allFailed {
                        group.cancelAll()
                        throw error
                    }
                    if core.canStartMore && core.running == 0 {
                        // Nothing in flight: start the next attempt at once rather than wait.
                        let attempt = core.started()
                        group.addTask { await HedgeEvent(attempt: attempt) { try await operation(attempt) } }
                    }
                }
            }
            throw lastError ?? CancellationError()
        }
    }
}

/// The synchronous core of hedging: how many attempts started, running and failed.
public struct HedgingCore: Sendable, Hashable {
    /// Attempts in all, the first included.
    public let maxAttempts: Int
    /// Attempts started.
    public private(set) var startedCount = 0
    /// Attempts that failed.
    public private(set) var failedCount = 0

    /// Makes a core.
    public init(maxAttempts: Int) { self.maxAttempts = max(1, maxAttempts) }

    /// Attempts running now.
    public var running: Int { startedCount - failedCount }
    /// Whether another attempt may start.
    public var canStartMore: Bool { startedCount < maxAttempts }
    /// Whether every allowed attempt has started and failed.
    public var allFailed: Bool { failedCount >= maxAttempts }

    /// Counts a started attempt; returns its 1-based number.
    @discardableResult
    public mutating func started() -> Int {
        startedCount += 1
        return startedCount
    }

    /// Counts a failed attempt.
    public mutating func failed() { failedCount += 1 }
}

enum HedgeEvent<T: Sendable>: Sendable {
    case timer
    case success(T)
    case failure(any Error)

    init(attempt: Int, _ body: () async throws -> T) async {
        do { self = .success(try await body()) } catch { self = .failure(error) }
    }
}
