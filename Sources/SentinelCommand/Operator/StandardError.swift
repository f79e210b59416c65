#if canImport(Glibc)
import Glibc
#endif

/// Lines for the operator on standard error, and flushing standard output.
enum StandardError {
    /// Writes `line` and a line break to standard error, unbuffered.
    static func write(_ line: String) {
        let text = line + "\n"
        _ = text.withCString { Glibc.write(2, $0, strlen($0)) }
    }

    /// Flushes standard output, so that a reader of a pipe sees each line at once.
    static func flushOutput() {
        // fflush(nil) flushes every stream: `stdout` itself is a C global that
        // strict concurrency would not let us name.
        fflush(nil)
    }
}
