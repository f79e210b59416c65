import Resilience
import Sentinel

/// A change at a virtual instant.
public struct TimedEvent: Sendable {
    public enum Change: Sendable {
        /// New settings of a backend (`pipeline` or `pipeline.variant`), the fields given merged in.
        case backend(target: String, spec: BackendSpec)
        /// New traffic of a pipeline, the fields given merged in.
        case traffic(pipeline: String, spec: TrafficSpec)
        /// An operator command through the control plane (actor `operator:scenario`).
        case command(name: String, arguments: [String: JSONValue], reason: String?)
        /// New settings of a backend on one instance of a fleet (from 0), the fields given merged in.
        case instanceBackend(instance: Int, target: String, spec: BackendSpec)
        /// An instance of a fleet dies (`kill`): the leader of the moment, or one instance (from 0).
        case kill(instance: Int?)
    }

    /// Seconds since the start.
    public var at: Double
    public var change: Change
    /// The fields as written (`set`, or the command's `args`), for the output.
    public var written: JSONValue
    var location: SourceLocation
}
