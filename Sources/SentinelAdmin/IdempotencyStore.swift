import Crypto
import Resilience

/// The answers of commands sent with an idempotency key, per identity, for
/// 24 hours: the same key again returns the first answer without running the
/// command; the same key with another body is refused (422).
struct IdempotencyStore: Sendable {
    struct Answer: Sendable {
        var bodyDigest: [UInt8]
        var status: Int
        var body: String
        var at: Int64
    }

    enum Lookup {
        case new
        case repeated(Answer)
        case conflict
    }

    static let lifetime: Int64 = 24 * 3600 * 1_000_000_000
    let capacity: Int
    private let answers = Locked<(byKey: [String: Answer], order: [(key: String, at: Int64)])>(([:], []))

    init(capacity: Int = 10_000) { self.capacity = capacity }

    static func digest(_ body: [UInt8]) -> [UInt8] { Array(SHA256.hash(data: body)) }

    func lookup(identity: String, key: String, bodyDigest: [UInt8], now: Int64) -> Lookup {
        answers.withLock { state in
            expire(&state, now: now)
            guard let answer = state.byKey[identity + "\u{0}" + key] else { return .new }
            return answer.bodyDigest == bodyDigest ? .repeated(answer) : .conflict
        }
    }

    func remember(identity: String, key: String, _ answer: Answer) {
        answers.withLock { state in
            let slot = identity + "\u{0}" + key
            if state.byKey.updateValue(answer, forKey: slot) == nil { state.order.append((slot, answer.at)) }
            while state.order.count > capacity { state.byKey.removeValue(forKey: state.order.removeFirst().key) }
        }
    }

    private func expire(_ state: inout (byKey: [String: Answer], order: [(key: String, at: Int64)]), now: Int64) {
        var expired = 0
        while expired < state.order.count, now - state.order[expired].at > Self.lifetime { expired += 1 }
        guard expired > 0 else { return }
        for entry in state.order[..<expired] { state.byKey.removeValue(forKey: entry.key) }
        state.order.removeFirst(expired)
    }
}
