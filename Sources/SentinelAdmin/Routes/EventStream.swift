import Hummingbird
import NIOCore
import Sentinel
import ServiceLifecycle

/// The text of the event stream: audit entries and alerts as Server-Sent
/// Events, and a comment line when nothing happened for a while.
enum EventStream {
    /// One event: `event: TYPE`, `data: JSON`, a blank line.
    static func frame(_ type: String, _ value: JSONValue) -> String {
        "event: \(type)\ndata: \(value.jsonString())\n\n"
    }

    static let keepaliveFrame = ": keepalive\n\n"

    /// Writes audit entries and alerts as they come, interleaved, and a
    /// keepalive comment every `keepalive`, until the reader goes away (a write
    /// fails), the server shuts down gracefully, or `stillAuthorized` says the
    /// reader's token was revoked (checked before every write, so within one
    /// keepalive of the tokens file's reload).
    static func write(
        audit: AsyncStream<AuditEntry>, alerts: AsyncStream<Alert>?, keepalive: Duration,
        stillAuthorized: @Sendable () -> Bool, to writer: inout any ResponseBodyWriter
    ) async throws {
        let (frames, continuation) = AsyncStream<String>.makeStream(bufferingPolicy: .bufferingNewest(1024))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for await entry in audit { continuation.yield(frame("audit", entry.jsonValue)) }
            }
            if let alerts {
                group.addTask {
                    for await alert in alerts { continuation.yield(frame("alert", alert.jsonValue)) }
                }
            }
            group.addTask {
                while true {
                    try await Task.sleep(for: keepalive)
                    continuation.yield(keepaliveFrame)
                }
            }
            defer {
                group.cancelAll()
                continuation.finish()
            }
            // Opening with a comment tells the reader at once that the stream is live.
            try await writer.write(ByteBuffer(string: keepaliveFrame))
            for await frame in frames.cancelOnGracefulShutdown() {
                guard stillAuthorized() else { break }
                try await writer.write(ByteBuffer(string: frame))
            }
        }
        try await writer.finish(nil)
    }
}
