import Sentinel

/// A value that must never be printed: a webhook URL with a token in its path
/// (Slack's), or a header's value. Read once from a file or an environment
/// variable when the configuration is read; every way of printing it prints
/// `<redacted>` and where it came from.
///
/// ```swift
/// let secret = try NotificationSecret.read(.environment("SLACK_WEBHOOK"))
/// print(secret)              // <redacted from $SLACK_WEBHOOK>
/// secret.reveal()            // the value, for the request only
/// ```
public struct NotificationSecret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable
{
    /// Where a secret is read from.
    public enum Source: Sendable, Hashable, CustomStringConvertible {
        /// The whole file, surrounding whitespace (a final line break) removed.
        case file(String)
        /// An environment variable, surrounding whitespace removed.
        case environment(String)
        /// Written in the configuration itself (a plain URL).
        case inline

        public var description: String {
            switch self {
            case .file(let path): "file \(path)"
            case .environment(let name): "$\(name)"
            case .inline: "the configuration"
            }
        }
    }

    private let value: String
    /// Where the value came from (printed instead of it).
    public let source: Source

    /// A secret with a value already in hand.
    public init(_ value: String, source: Source) {
        self.value = value
        self.source = source
    }

    /// The value, for the request that needs it; never log it.
    public func reveal() -> String { value }

    public var description: String { "<redacted from \(source)>" }
    public var debugDescription: String { description }
    public var customMirror: Mirror { Mirror(self, children: ["source": source]) }

    /// Replaces every occurrence of this secret in `text` with `<redacted>`
    /// (for error messages of libraries that might quote a request).
    public func redact(_ text: String) -> String {
        guard !value.isEmpty, text.contains(value) else { return text }
        return text.replacing(value, with: "<redacted>")
    }
}

extension NotificationSecret {
    /// The largest secret file read: 64 KiB.
    static let maximumFileSize = 64 << 10

    /// Reads a secret; the error says what is wrong (a missing variable, an
    /// unreadable file) and never quotes the value.
    ///
    /// - Parameter environment: looks a variable up (the process's by default).
    public static func read(
        _ source: Source, environment: (String) -> String? = NotificationSecret.processEnvironment
    ) throws(NotificationSecretError) -> NotificationSecret {
        let raw: String
        switch source {
        case .inline:
            throw NotificationSecretError("an inline value has nothing to read")
        case .environment(let name):
            guard let value = environment(name) else { throw NotificationSecretError("the environment variable \(name) is not set") }
            raw = value
        case .file(let path):
            switch ScriptFile.read(path: path, maximumFileSize: maximumFileSize) {
            case .success(let file):
                switch file.text {
                case .success(let text): raw = text
                case .failure: throw NotificationSecretError("\(path): not UTF-8 text")
                }
            case .failure(let failure):
                throw NotificationSecretError("\(path): \(failure.message)")
            }
        }
        let value = raw.trimmingWhitespace()
        guard !value.isEmpty else { throw NotificationSecretError("\(source) is empty") }
        return NotificationSecret(value, source: source)
    }

    /// The process's environment variable `name`.
    public static func processEnvironment(_ name: String) -> String? {
        getenv(name).map { String(cString: $0) }
    }
}

/// A secret that could not be read; the message never holds the value.
public struct NotificationSecretError: Error, Sendable, CustomStringConvertible {
    public var message: String
    init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension String {
    /// Without leading and trailing spaces, tabs and line breaks.
    func trimmingWhitespace() -> String {
        var text = Substring(self)
        while let first = text.first, first.isWhitespace { text = text.dropFirst() }
        while let last = text.last, last.isWhitespace { text = text.dropLast() }
        return String(text)
    }
}

#if canImport(Glibc)
import Glibc
#endif
