/// A ``PipelineMiddleware`` that cannot be made as asked.
public struct PipelineMiddlewareError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What was wrong.
    public struct Code: Sendable, Hashable, CustomStringConvertible {
        private let raw: String
        private init(_ raw: String) { self.raw = raw }
        /// No pipeline of that name is registered.
        public static let unknownPipeline = Code("unknown_pipeline")
        /// The pipeline retries, which would run a request's handler more than once.
        public static let replaysRequests = Code("replays_requests")
        /// The rate-limit policy name cannot be written in a header field.
        public static let malformedPolicyName = Code("malformed_policy_name")
        /// The code as a snake_case string.
        public var description: String { raw }
    }

    /// What was wrong.
    public var code: Code
    /// A message naming the pipeline or setting.
    public var message: String

    /// Makes an error.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }
}
