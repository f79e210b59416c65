import AsyncHTTPClient
import NIOCore

/// A request body a ``PipelineHTTPClient`` can send more than once: for a
/// retry, and for each hedged attempt.
///
/// AsyncHTTPClient does not tell whether an `HTTPClientRequest.Body` can be
/// read twice (a stream usually cannot), so the client sends the body of the
/// request given to ``PipelineHTTPClient/execute(_:key:logger:)`` once and
/// never retries nor hedges it; pass the body as a `ReplayableBody` to
/// ``PipelineHTTPClient/execute(_:body:key:logger:)`` to have it sent again.
///
/// ```swift
/// var order = HTTPClientRequest(url: "/orders")
/// order.method = .PUT
/// let response = try await orders.execute(order, body: .bytes(ByteBuffer(string: json)), key: userID)
/// ```
public struct ReplayableBody: Sendable {
    let make: @Sendable () -> HTTPClientRequest.Body

    /// Bytes in memory (sent again as they are, without a copy).
    public static func bytes(_ buffer: ByteBuffer) -> ReplayableBody {
        ReplayableBody { .bytes(buffer) }
    }

    /// Bytes in memory.
    public static func bytes(_ bytes: some Collection<UInt8> & Sendable) -> ReplayableBody {
        .bytes(ByteBuffer(bytes: bytes))
    }

    /// A body made anew for every attempt by `makeBody` (a stream that re-reads a file, say),
    /// which must produce the same bytes each time.
    public static func makingEach(_ makeBody: @escaping @Sendable () -> HTTPClientRequest.Body) -> ReplayableBody {
        ReplayableBody(make: makeBody)
    }
}

/// The body of one call, as its attempts see it.
enum CallBody: Sendable {
    /// No body.
    case none
    /// A body that can be sent once: one attempt, never retried nor hedged.
    case once(HTTPClientRequest.Body)
    /// A body every attempt can send.
    case replayable(ReplayableBody)

    /// Whether attempts after the first can send the body.
    var isReplayable: Bool {
        if case .once = self { return false }
        return true
    }

    /// The body for one attempt.
    func make() -> HTTPClientRequest.Body? {
        switch self {
        case .none: nil
        case .once(let body): body
        case .replayable(let body): body.make()
        }
    }
}
