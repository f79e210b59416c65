import Resilience

/// Hands every published element to each current subscriber's stream: the
/// audit log's and the alert broadcaster's live readers (the admin API's
/// event stream, notifications).
///
/// A subscriber keeps the newest `buffer` elements it has not read; each
/// older one it will never see goes to its `overflow` callback, called by
/// the publisher at once, so a reader can count what it lost.
final class Broadcast<Element: Sendable>: Sendable {
    private struct Subscriber: Sendable {
        var continuation: AsyncStream<Element>.Continuation
        var overflow: (@Sendable (Element) -> Void)?
    }

    private struct State {
        var next: UInt64 = 0
        var subscribers: [UInt64: Subscriber] = [:]
        var published = 0
    }

    private let state = Locked(State())

    init() {}

    /// Elements published so far, counted when their readers are chosen, so
    /// a subscriber that counts what it read knows when it has caught up.
    var published: Int { state.withLock { $0.published } }

    func subscribe(buffer: Int, overflow: (@Sendable (Element) -> Void)?) -> AsyncStream<Element> {
        let (stream, continuation) = AsyncStream<Element>.makeStream(bufferingPolicy: .bufferingNewest(buffer))
        let id = state.withLock { state -> UInt64 in
            state.next += 1
            state.subscribers[state.next] = Subscriber(continuation: continuation, overflow: overflow)
            return state.next
        }
        continuation.onTermination = { [weak self] _ in
            _ = self?.state.withLock { $0.subscribers.removeValue(forKey: id) }
        }
        return stream
    }

    func publish(_ element: Element) {
        let readers = state.withLock { state in
            state.published += 1
            return state.subscribers.isEmpty ? [] : Array(state.subscribers.values)
        }
        for reader in readers {
            if case .dropped(let lost) = reader.continuation.yield(element) { reader.overflow?(lost) }
        }
    }
}
