import ArgumentParser
import Sentinel

#if canImport(Glibc)
import Glibc
#endif

/// Why an operator command did not get done, and the exit code that says so.
///
/// The exit codes are the contract scripts rely on (DESIGN.md, "Operator
/// commands"; docs/admin-api.md says why each status goes where): 1 the
/// server refused (403 denied, 409 rejected, 500 failed), 2 a usage error on
/// our side or a request the server could not take (400, 404, 405, 413, 415,
/// 422, any other 4xx, a redirect), 3 the server is unreachable, did not
/// accept the token (401), or something in the way answered for it (502,
/// 503, 504, any 5xx but 500).
struct OperatorFailure: Error, CustomStringConvertible {
    /// What kind of failure, and so which exit code.
    enum Code: Sendable, Hashable {
        /// Denied, rejected or failed on the server: exit 1.
        case refused
        /// A usage error, or a request the server could not take: exit 2.
        case usage
        /// No connection, no answer in time, or no usable token: exit 3.
        case unreachable
        /// The server did not accept the token (401), or there is none: exit 3.
        case unauthenticated
    }

    let code: Code
    /// One line for standard error, naming what was wrong (never the token).
    let message: String
    /// For a transport failure, the short cause alone (`connection refused`),
    /// for messages that name the server already.
    let cause: String?

    init(_ code: Code, _ message: String, cause: String? = nil) {
        self.code = code
        self.message = message
        self.cause = cause
    }

    var description: String { message }

    /// The process exit code for ``code``.
    var exitCode: ExitCode {
        switch code {
        case .refused: .refused
        case .usage: .usage
        case .unreachable, .unauthenticated: .unreachable
        }
    }

    /// The failure an HTTP status stands for, or nil for a success (2xx).
    ///
    /// `body` is the error body the server sent (`{"error": {"code", "message"}}`);
    /// its message is what an operator reads on standard error.
    static func forStatus(_ status: Int, body: [UInt8], server: String) -> OperatorFailure? {
        if (200..<300).contains(status) { return nil }
        let error = (try? JSONParser().parse(body))?["error"] ?? .null
        let serverCode = error["code"].stringValue
        let serverMessage = error["message"].stringValue
        let code = exitClass(status)
        var text = serverMessage ?? defaultMessage(status)
        if let serverCode { text = "\(serverCode): \(text)" }
        text += " (HTTP \(status))"
        if status == 401 {
            text += "; check --token-file, $SENTINEL_TOKEN_FILE or $SENTINEL_TOKEN against the server's tokens file"
        } else if (300..<400).contains(status) {
            text = "\(server) answered with a redirect (HTTP \(status)); give the admin API's own URL with --server"
        }
        return OperatorFailure(code, text)
    }

    /// The exit class of a non-success status.
    static func exitClass(_ status: Int) -> Code {
        switch status {
        case 401: .unauthenticated
        case 403, 409, 500: .refused
        // Unavailable (503), a gateway or proxy in the way (502, 504), or
        // another server error: the command may not have reached the sentinel.
        case 501...599: .unreachable
        default: .usage
        }
    }

    private static func defaultMessage(_ status: Int) -> String {
        switch status {
        case 400: "bad request"
        case 401: "missing or unknown bearer token"
        case 403: "denied"
        case 404: "not found"
        case 405: "method not allowed"
        case 409: "rejected"
        case 413: "body too large"
        case 415: "unsupported media type"
        case 422: "idempotency key reused with another body"
        case 500: "the command failed"
        case 503: "the server is not available"
        default: "the server answered HTTP \(status)"
        }
    }

    /// Writes the message to standard error.
    func report() {
        StandardError.write(message)
    }
}

extension ExitCode {
    /// The server refused: denied, rejected or failed.
    static let refused = ExitCode(1)
    /// The server is unreachable or did not accept the token.
    static let unreachable = ExitCode(3)
}
