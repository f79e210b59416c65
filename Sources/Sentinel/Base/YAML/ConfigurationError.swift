/// A configuration or scenario file that could not be read: the message names
/// the file, the line and the field.
public struct ConfigurationError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file, when read from one.
    public var file: String?
    /// 1-based line, when known.
    public var line: Int?
    /// The field path, such as `guards[2].max_step_up`.
    public var field: String?
    public var message: String

    public init(file: String? = nil, line: Int? = nil, field: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.field = field
        self.message = message
    }

    /// `file:line: field: message`.
    public var description: String {
        var prefix = ""
        if let file { prefix += file + ":" }
        if let line { prefix += "\(line):" }
        if !prefix.isEmpty { prefix += " " }
        if let field { prefix += field + ": " }
        return prefix + message
    }
}
