import Hummingbird
import Resilience

extension PipelineMiddleware where Context: PipelineRequestContext {
    /// Runs requests through `pipeline` and tells the handler the traffic-split
    /// variant through ``PipelineRequestContext/pipelineVariant``.
    ///
    /// - Throws: ``PipelineMiddlewareError`` when the pipeline retries or the policy name is malformed.
    public init(pipeline: Pipeline, configuration: Configuration = .init()) throws(PipelineMiddlewareError) {
        try self.init(checking: pipeline, configuration, recordVariant: { $0.pipelineVariant = $1 })
    }

    /// Runs requests through the pipeline registered as `name` in `registry`, and tells
    /// the handler the variant through ``PipelineRequestContext/pipelineVariant``.
    ///
    /// - Throws: ``PipelineMiddlewareError`` when there is no such pipeline, it retries,
    ///   or the policy name is malformed.
    public init(
        named name: String, in registry: ParameterRegistry = .shared, configuration: Configuration = .init()
    ) throws(PipelineMiddlewareError) {
        try self.init(checking: try Self.lookUp(name, registry), configuration, recordVariant: { $0.pipelineVariant = $1 })
    }
}
