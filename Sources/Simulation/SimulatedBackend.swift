import DequeModule
import Resilience

/// The error a simulated backend answers with.
public struct SimulatedBackendError: Error, Sendable, CustomStringConvertible {
    public enum Kind: Sendable {
        /// The backend failed the request (its error rate).
        case failed
        /// The backend's queue was full.
        case overloaded
    }

    public var kind: Kind
    public var backend: String

    public var description: String {
        switch kind {
        case .failed: "\(backend): simulated backend error"
        case .overloaded: "\(backend): overloaded (its queue is full)"
        }
    }
}

/// A backend while the simulation runs: its settings, the requests it serves
/// and those waiting for capacity.
struct SimulatedBackend {
    /// `checkout` or `checkout.canary`.
    let name: String
    /// The instance of a fleet it serves (0 without one).
    let instance: Int
    var spec: BackendSpec
    var random: Xoshiro256StarStar
    var inService = 0
    /// Calls waiting for capacity, with the attempt token they wait for.
    var waiting = Deque<(call: Int32, token: UInt32)>()
    /// Boxed once: an `any Error` made per failure would allocate on every call.
    let failureError: any Error & Sendable
    let overloadError: any Error & Sendable

    init(name: String, instance: Int = 0, spec: BackendSpec, seed: UInt64) {
        self.name = name
        self.instance = instance
        self.spec = spec
        random = Xoshiro256StarStar(seed: seed)
        failureError = SimulatedBackendError(kind: .failed, backend: name)
        overloadError = SimulatedBackendError(kind: .overloaded, backend: name)
    }

    /// Whether a new request starts at once.
    var hasRoom: Bool {
        guard let capacity = spec.capacity else { return true }
        return inService < capacity
    }

    /// Whether a request that cannot start may wait.
    var mayQueue: Bool {
        guard let limit = spec.queueLimit else { return true }
        return waiting.count < limit
    }

    /// The longest a drawn latency can be: a log-normal's tail is unbounded,
    /// and a draw of years would not fit in nanoseconds.
    static let maximumLatency: Double = 86_400

    /// Draws how long the next request takes (nanoseconds, at most a day) and whether it fails.
    mutating func draw() -> (latency: Int64, fails: Bool) {
        let seconds = spec.latency.sample(&random)
        let fails = spec.errorRate > 0 && random.nextUnit() < spec.errorRate
        // A NaN or negative draw (never expected) becomes 0, never a trap.
        let bounded = seconds >= 0 ? min(seconds, Self.maximumLatency) : 0
        return (max(1, Int64(bounded * 1e9)), fails)
    }
}
