import AsyncHTTPClient
import NIOCore
import NIOHTTP1
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// How each attempt's outcome counts: a success or a failure for the
/// pipeline's statistics and circuit breaker, and whether a failure is worth
/// another attempt.
///
/// The defaults (``standard``):
///
/// | answer | counts as | retried |
/// | --- | --- | --- |
/// | 1xx, 2xx, 3xx | success | — |
/// | 408 Request Timeout, 429 Too Many Requests | failure | yes |
/// | any other 4xx | success (the caller's mistake, not the upstream's health) | no |
/// | 502, 503, 504 | failure | yes |
/// | any other 5xx | failure | no |
/// | connection refused, reset or closed; connect, TLS handshake, read or attempt timeout | failure | yes |
/// | any other error | failure | no |
///
/// An error is always a failure (there is no answer to return); the
/// classification only says whether it is transient. Whatever it says, a
/// request whose method is not in ``PipelineHTTPClient/Configuration/retryableMethods``
/// is retried only when it never reached the upstream (the connection was
/// refused or could not be made in time), and a request whose body can be
/// sent only once is never retried.
///
/// ```swift
/// // Also retry a 500 from an upstream known to fail at random:
/// let classification = AttemptClassification { status in
///     status == .internalServerError ? .retryableFailure : AttemptClassification.standardVerdict(status)
/// }
/// ```
public struct AttemptClassification: Sendable {
    /// What an answer's status counts as.
    public enum Verdict: Sendable, Hashable {
        /// A success: returned to the caller, recorded as a success.
        case success
        /// A failure not worth another attempt.
        case failure
        /// A failure another attempt may not meet (an overloaded or restarting upstream).
        case retryableFailure

        /// Whether the answer counts as a failure.
        public var isFailure: Bool { self != .success }
    }

    let statusRule: @Sendable (HTTPResponseStatus) -> Verdict
    let errorRule: @Sendable (any Error) -> Bool

    /// Classifies statuses with `status`, and errors with `errorIsRetryable` (``isTransient(_:)`` by default).
    public init(
        status: @escaping @Sendable (HTTPResponseStatus) -> Verdict,
        errorIsRetryable: @escaping @Sendable (any Error) -> Bool = AttemptClassification.isTransient
    ) {
        statusRule = status
        errorRule = errorIsRetryable
    }

    /// The defaults (see the table above).
    public static let standard = AttemptClassification(status: standardVerdict)

    /// The default verdict for a status: 5xx, 408 and 429 are failures; 408, 429, 502, 503 and 504 are retryable.
    @Sendable
    public static func standardVerdict(_ status: HTTPResponseStatus) -> Verdict {
        switch status.code {
        case 408, 429, 502, 503, 504: .retryableFailure
        case 500...599: .failure
        default: .success
        }
    }

    /// Whether `error` is a connection failure or a timeout, which another attempt may not meet.
    @Sendable
    public static func isTransient(_ error: any Error) -> Bool {
        ConnectionFailure(error) != nil
    }

    /// The verdict for `status`.
    public func verdict(for status: HTTPResponseStatus) -> Verdict { statusRule(status) }

    /// Whether a failed attempt that threw `error` is worth another attempt.
    public func isRetryable(_ error: any Error) -> Bool { errorRule(error) }
}

/// How a connection failed, as far as the errors of AsyncHTTPClient and SwiftNIO tell.
enum ConnectionFailure: Sendable, Hashable {
    /// No connection was made (refused, unreachable, connect timeout): the request was not sent.
    case notConnected
    /// The connection broke or stalled after it was made: the request may have been processed.
    case broken
    /// The attempt's deadline passed.
    case deadline

    init?(_ error: any Error) {
        switch error {
        case let error as HTTPClientError:
            switch error {
            case .connectTimeout: self = .notConnected
            case .deadlineExceeded: self = .deadline
            case .remoteConnectionClosed, .readTimeout, .writeTimeout, .tlsHandshakeTimeout,
                .socksHandshakeTimeout, .httpProxyHandshakeTimeout, .getConnectionFromPoolTimeout:
                self = .broken
            default: return nil
            }
        case is NIOConnectionError:
            self = .notConnected
        case let error as ChannelError:
            switch error {
            case .connectTimeout: self = .notConnected
            case .ioOnClosedChannel, .alreadyClosed, .eof, .outputClosed, .inputClosed: self = .broken
            default: return nil
            }
        case let error as IOError:
            switch error.errnoCode {
            case ECONNREFUSED, ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL: self = .notConnected
            case ECONNRESET, ECONNABORTED, EPIPE, ETIMEDOUT: self = .broken
            default: return nil
            }
        default:
            return nil
        }
    }
}
