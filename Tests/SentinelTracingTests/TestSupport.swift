import InMemoryTracing
import Logging
import Resilience
import Tracing

/// A failure the operations under test throw.
struct BackendError: Error, Equatable {}

/// A pipeline on a manual clock in its own registry.
func manualPipeline(
    _ name: String = "checkout", @PolicyBuilder policies: () -> [PipelineComponent]
) throws -> (Pipeline, ManualClock, ParameterRegistry) {
    let registry = ParameterRegistry()
    let clock = ManualClock()
    let pipeline = try Pipeline(name, registry: registry, time: ClockTimeSource(clock), seed: 42, policies: policies)
    return (pipeline, clock, registry)
}

extension FinishedInMemorySpan {
    /// The attribute `name`, if set.
    func attribute(_ name: String) -> SpanAttribute? { attributes.get(name) }
}

extension SpanEvent {
    /// The attribute `name`, if set.
    func attribute(_ name: String) -> SpanAttribute? { attributes.get(name) }
}

extension Logger {
    /// A logger that drops everything.
    static let silent = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
}
