import AsyncHTTPClient
import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// What went wrong between us and the server, in an operator's words, and
/// whether a request may be sent again.
enum TransportFailure {
    /// The failure (exit 3) for an error of the HTTP client.
    static func failure(for error: any Error, server: ServerURL, timeout: TimeAmount) -> OperatorFailure {
        if let failure = error as? OperatorFailure { return failure }
        if error is CancellationError || (error as? HTTPClientError) == .cancelled {
            return OperatorFailure(.unreachable, "interrupted before \(server) answered")
        }
        let cause = describe(error, timeout: timeout)
        return OperatorFailure(
            .unreachable,
            "cannot reach the sentinel at \(server): \(cause) (is it running with --admin? --server and $SENTINEL_SERVER say where)",
            cause: cause)
    }

    /// A short description: `connection refused`, `no answer within 30 s`, ...
    static func describe(_ error: any Error, timeout: TimeAmount) -> String {
        if let client = error as? HTTPClientError {
            switch client {
            case .connectTimeout: return "no connection within \(seconds(AdminClient.connectTimeout)) s"
            case .deadlineExceeded: return "no answer within \(seconds(timeout)) s"
            case .readTimeout: return "nothing received for \(seconds(AdminClient.streamIdleTimeout)) s"
            case .remoteConnectionClosed: return "the server closed the connection"
            case .tlsHandshakeTimeout: return "no TLS handshake within \(seconds(AdminClient.connectTimeout)) s"
            default: break
            }
        }
        let text = String(describing: error)
        // NIO's connection errors end in "(errno: N)": the system's words for N
        // say it best ("Connection refused").
        if let number = errnoNumber(in: text) {
            return String(cString: strerror(number)).lowercased()
        }
        return text
    }

    /// Whether the request may have reached the server without its answer
    /// reaching us: a reset, a closed connection or a timeout.
    static func isRetryable(_ error: any Error) -> Bool {
        if let client = error as? HTTPClientError {
            return [.remoteConnectionClosed, .readTimeout, .writeTimeout, .deadlineExceeded, .connectTimeout].contains(client)
        }
        let text = String(describing: error)
        if let number = errnoNumber(in: text) {
            return [ECONNRESET, EPIPE, ETIMEDOUT, ECONNABORTED].contains(number)
        }
        return text.contains("ioOnClosedChannel") || text.contains("connectTimeout")
    }

    private static func seconds(_ amount: TimeAmount) -> Int64 {
        amount.nanoseconds / 1_000_000_000
    }

    private static func errnoNumber(in text: String) -> Int32? {
        guard let range = text.firstRange(of: "errno: ") else { return nil }
        let digits = text[range.upperBound...].prefix { $0.isASCII && $0.isNumber }
        return Int32(digits)
    }
}
