import Synchronization

@testable import Resilience

/// A counter tasks can bump concurrently.
final class Counter: Sendable {
    private let value = Atomic<Int>(0)
    @discardableResult
    func increment() -> Int { value.wrappingAdd(1, ordering: .relaxed).newValue }
    func decrement() { value.wrappingSubtract(1, ordering: .relaxed) }
    var current: Int { value.load(ordering: .relaxed) }
}

/// A failure the operations under test throw.
struct BackendError: Error, Equatable {}

/// A pipeline on a manual clock in its own registry.
func manualPipeline(
    _ name: String = "checkout",
    clock: ManualClock = ManualClock(),
    events: EventStream? = nil,
    @PolicyBuilder policies: () -> [PipelineComponent]
) throws -> (Pipeline, ManualClock, ParameterRegistry) {
    let registry = ParameterRegistry()
    let pipeline = try Pipeline(name, registry: registry, time: ClockTimeSource(clock), seed: 42, events: events, policies: policies)
    return (pipeline, clock, registry)
}

let second: Int64 = 1_000_000_000
let millisecond: Int64 = 1_000_000
