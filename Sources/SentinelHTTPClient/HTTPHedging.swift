import AsyncHTTPClient
import NIOHTTP1
import Resilience

/// Hedged requests: when an attempt is slow, the client sends the same
/// request again without cancelling the first; the first answer wins and the
/// others are cancelled (their connections are closed).
///
/// Wraps Resilience's `Hedging` (its `delay` is an `Adaptive` knob, tunable at
/// run time). Hedging runs inside each attempt of the pipeline: the pipeline
/// counts one call however many hedges it sent, its breaker and statistics see
/// the group's outcome, and its `Retry` retries a failed group (with backoff
/// and `Retry-After`). Within a group:
/// - an answer ends the group, whatever its status (a failure goes to the
///   pipeline's retry, which backs off and honours `Retry-After`, rather than
///   being sent again at once);
/// - an attempt that got no answer but another could (a connection failure,
///   its deadline) lets the group go on: it waits for the attempts still
///   running, or starts the next one at once when none is; any other error
///   (one every attempt would meet, the pipeline's timeout, a cancellation)
///   ends the group.
///
/// Only requests whose method is in ``methods`` (the idempotent ones by
/// default) and whose body can be sent again are hedged; the others run one
/// attempt at a time.
///
/// ```swift
/// let delay = try Adaptive<Duration>(
///     name: "inventory.hedge.delay", kind: .duration, default: .milliseconds(50), bounds: 0.001...10)
/// let configuration = PipelineHTTPClient.Configuration(
///     hedging: HTTPHedging(Hedging(delay: delay, maxAttempts: 2, clock: ContinuousClock())))
/// ```
public struct HTTPHedging: Sendable {
    /// The methods whose requests are hedged.
    public var methods: [HTTPMethod]
    /// Attempts in a group, the first included.
    public let maxAttempts: Int
    let run: @Sendable (@escaping @Sendable (Int) async throws -> HedgedAnswer) async throws -> HedgedAnswer

    /// Hedges with `hedging`, for requests whose method is in `methods`.
    public init<C: Clock>(
        _ hedging: Hedging<C>, methods: [HTTPMethod] = PipelineHTTPClient.idempotentMethods
    ) where C.Duration == Duration {
        self.methods = methods
        maxAttempts = hedging.maxAttempts
        run = { operation in try await hedging.execute(operation) }
    }
}

/// What one hedged attempt came to, as the hedging group sees it: answers
/// (even failures) and errors another attempt would meet too end the group;
/// errors thrown let it go on.
enum HedgedAnswer: Sendable {
    case response(HTTPClientResponse)
    case failure(any Error)
}
