import Logging

extension Logger {
    /// A logger that drops everything: tests pass it where the code under test
    /// takes a logger, so a test run prints nothing but the tests' own output.
    static let silent = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }
}
