import Resilience
import Sentinel

/// Where in the scenario file something was written, for errors found after parsing.
public struct SourceLocation: Sendable, Hashable {
    public var file: String?
    public var line: Int?
    public var field: String?

    init(_ value: YAMLValue, file: String?) {
        self.file = file
        line = value.line
        field = value.path.isEmpty ? nil : value.path
    }

    public init(file: String? = nil, line: Int? = nil, field: String? = nil) {
        self.file = file
        self.line = line
        self.field = field
    }

    func error(_ message: String) -> ConfigurationError {
        ConfigurationError(file: file, line: line, field: field, message: message)
    }
}
