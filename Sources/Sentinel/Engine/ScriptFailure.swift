import ScriptHost

/// Why a script could not be loaded or evaluated: printed as `path:line: message`.
public struct ScriptFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// The file (display path), when known.
    public var path: String?
    public var line: Int?
    public var message: String
    /// The sandbox's error code, when the failure came from Lua.
    public var code: ScriptError.Code?
    /// The field of the returned table the error is about, when it is about one.
    var field: String?

    public init(path: String? = nil, line: Int? = nil, message: String, code: ScriptError.Code? = nil) {
        self.path = path
        self.line = line
        self.message = message
        self.code = code
    }

    /// A limit stopped the script part-way: its sandbox should be rebuilt.
    public var hitLimit: Bool {
        code == .instructionBudget || code == .deadline || code == .memory
    }

    public var description: String {
        switch (path, line) {
        case (let path?, let line?): "\(path):\(line): \(message)"
        case (let path?, nil): "\(path): \(message)"
        default: message
        }
    }
}

/// The name `ScriptFailure` had before: it is thrown by evaluations too.
@available(*, deprecated, renamed: "ScriptFailure")
public typealias ScriptLoadError = ScriptFailure
