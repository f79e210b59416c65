import HTTPTypes
import Resilience

/// The rate-limit header fields of draft-ietf-httpapi-ratelimit-headers
/// (versions 07 and later: `RateLimit-Policy` and `RateLimit`, both
/// structured-field lists), and optionally the trio of its earlier versions.
///
/// A pipeline's limiter is described as one quota policy:
///
/// ```
/// RateLimit-Policy: "default";q=100;w=1
/// RateLimit: "default";r=42;t=1
/// ```
///
/// - `w`: the window, whole seconds: the time the limiter takes to regain
///   its full capacity (a token bucket's `burst / rate`, a sliding window's
///   length), rounded up, at least 1.
/// - `q`: the quota per window, the limiter's capacity rounded down, at least
///   1: a client that sends no more than `q` requests per `w` seconds, even
///   all at once, is never refused (`w` is long enough to regain all of it).
///   Not `rate × w`: with a burst below the rate, `rate × w` requests sent
///   together would be refused.
/// - `r`: the permits left now, rounded down.
/// - `t`: whole seconds until the limiter is back to its full capacity if no
///   request comes in, rounded up; on a refusal at least the `Retry-After`.
///
/// The legacy trio (`RateLimit-Limit: q`, `RateLimit-Remaining: r`,
/// `RateLimit-Reset: t`, drafts 00 to 06, still common in clients) is written
/// only when asked for.
public struct RateLimitFields: Sendable, Hashable {
    /// The quota policy's identifier (`"default"` unless configured).
    public var policy: String
    /// `q`: requests allowed per window.
    public var quota: Int
    /// `w`: the window, seconds.
    public var window: Int
    /// `r`: requests left now.
    public var remaining: Int
    /// `t`: seconds until the quota is whole again.
    public var reset: Int

    /// The fields for a limiter's status, under the quota policy `policy`.
    ///
    /// - Parameter retryAfter: on a refusal, the time until the next request may pass;
    ///   `reset` is never shorter.
    public init(policy: String, status: RateLimitStatus, retryAfter: Duration? = nil) {
        self.policy = policy
        let period = status.refillPeriod.secondsDouble
        window = max(1, Self.wholeSeconds(roundingUp: period))
        quota = max(1, Int(min(status.capacity, Double(Int32.max)).rounded(.down)))
        remaining = max(0, min(quota, Int(min(status.available, Double(Int32.max)).rounded(.down))))
        let refusedFor = retryAfter.map { Self.wholeSeconds(roundingUp: $0.secondsDouble) } ?? 0
        reset = max(Self.wholeSeconds(roundingUp: status.timeToFull.secondsDouble), refusedFor)
    }

    /// The `RateLimit-Policy` field's value.
    public var policyField: String { "\(Self.quoted(policy));q=\(quota);w=\(window)" }

    /// The `RateLimit` field's value.
    public var limitField: String { "\(Self.quoted(policy));r=\(remaining);t=\(reset)" }

    /// Writes `RateLimit-Policy` and `RateLimit`, and the legacy trio when `legacy` is true.
    public func write(to fields: inout HTTPFields, legacy: Bool) {
        fields[.rateLimitPolicy] = policyField
        fields[.rateLimit] = limitField
        if legacy {
            fields[.rateLimitLimit] = String(quota)
            fields[.rateLimitRemaining] = String(remaining)
            fields[.rateLimitReset] = String(reset)
        }
    }

    /// Whether `name` can be a policy identifier: a structured-field string of printable ASCII.
    public static func isValidPolicyName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.allSatisfy { (0x20...0x7E).contains($0) }
    }

    /// `seconds` rounded up to a whole number (0 for zero, negative or non-finite).
    static func wholeSeconds(roundingUp seconds: Double) -> Int {
        guard seconds.isFinite, seconds > 0 else { return 0 }
        return Int(min(seconds, Double(Int32.max)).rounded(.up))
    }

    /// `text` as a structured-field string: quoted, with `\` and `"` escaped.
    static func quoted(_ text: String) -> String {
        var result = "\""
        for character in text {
            if character == "\\" || character == "\"" { result.append("\\") }
            result.append(character)
        }
        result.append("\"")
        return result
    }
}

extension HTTPField.Name {
    /// `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers).
    public static let rateLimitPolicy = Self("RateLimit-Policy")!
    /// `RateLimit` (draft-ietf-httpapi-ratelimit-headers).
    public static let rateLimit = Self("RateLimit")!
    /// `RateLimit-Limit` (drafts 00 to 06 of draft-ietf-httpapi-ratelimit-headers).
    public static let rateLimitLimit = Self("RateLimit-Limit")!
    /// `RateLimit-Remaining` (drafts 00 to 06).
    public static let rateLimitRemaining = Self("RateLimit-Remaining")!
    /// `RateLimit-Reset` (drafts 00 to 06).
    public static let rateLimitReset = Self("RateLimit-Reset")!
}
