/// Splits a release's false-alarm budget across its canary steps and the
/// metrics judged at each step (Bonferroni).
///
/// A release that runs `steps` canary steps and judges `metrics` metrics at
/// each, every one with its own ``SequentialProportionTest`` or
/// ``SequentialLatencyTest`` at `α = perTest`, has a chance of at least one
/// false violation anywhere in the release of at most
/// `steps × metrics × perTest = total` (the union bound: it needs no
/// independence between tests, and each test already holds over all its
/// looks). The same holds for false passes. It is conservative when the tests
/// are correlated (the same calls judged for errors and latency), never liberal.
///
/// ```swift
/// let budget = SequentialBudget(total: 0.01, steps: 6, metrics: 2)
/// var errors = SequentialProportionTest(alpha: budget.perTest)   // 0.01 / 12 ≈ 0.00083
/// ```
public struct SequentialBudget: Sendable, Hashable {
    /// The release-wide chance of any false alarm.
    public let total: Double
    /// Canary steps in the release (each a new mark, new tests).
    public let steps: Int
    /// Metrics judged at each step.
    public let metrics: Int

    /// Makes a budget; `total` is clamped to `[1e-9, 0.5]`, `steps` and `metrics` to at least 1.
    public init(total: Double, steps: Int, metrics: Int) {
        self.total = total.isFinite ? Swift.min(0.5, Swift.max(1e-9, total)) : 0.01
        self.steps = Swift.max(1, steps)
        self.metrics = Swift.max(1, metrics)
    }

    /// Tests in the release: `steps × metrics`.
    public var tests: Int { steps * metrics }

    /// The `α` of each test: `total / (steps × metrics)`.
    public var perTest: Double { total / Double(tests) }
}
