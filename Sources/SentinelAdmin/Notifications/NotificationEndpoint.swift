import Resilience
import Sentinel

/// One webhook: where notifications go, in which body, which events, and
/// how hard to try. See docs/operations.md#notifications for the YAML.
///
/// ```swift
/// let chat = NotificationEndpoint(
///     name: "ops-chat",
///     url: try WebhookURL(NotificationSecret.read(.environment("SLACK_WEBHOOK"))),
///     kind: .slack,
///     events: NotificationEvents(minimumAlertSeverity: .warning, approvals: true))
/// ```
public struct NotificationEndpoint: Sendable, Hashable {
    /// The body a webhook receives.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// A stable JSON object (docs/operations.md#json-body), version 1.
        case json
        /// Slack's incoming-webhook body: `{"text": ..., "blocks": [...]}`
        /// (Mattermost and Rocket.Chat take it too).
        case slack
    }

    /// A header sent with every request, whose value is a secret.
    public struct SecretHeader: Sendable, Hashable {
        /// The header's name, such as `Authorization` or `X-Sentinel-Token`.
        public var name: String
        public var value: NotificationSecret

        public init(name: String, value: NotificationSecret) {
            self.name = name
            self.value = value
        }
    }

    /// How many notifications may be sent in a period: a token bucket that
    /// holds `count` and refills `count` per `period`. Past it, notifications
    /// wait in the queue (and the queue's bound drops the overflow).
    public struct RateLimit: Sendable, Hashable {
        public var count: Int
        public var period: Duration

        public init(count: Int, per period: Duration) {
            self.count = count
            self.period = period
        }

        /// As the token bucket of Resilience reads it.
        var limits: RateLimits {
            RateLimits(rate: Double(count) / max(1e-9, period.secondsDouble), burst: Double(count), window: 0)
        }
    }

    /// Retries after a 5xx answer, a 408 or 429, a refused or broken
    /// connection or a timeout: `maxRetries` more attempts, the n-th after
    /// `initialDelay × 2^(n-1)` (at most `maxDelay`), each with equal jitter
    /// (half the delay fixed, half random).
    public struct Retries: Sendable, Hashable {
        public var maxRetries: Int
        public var initialDelay: Duration
        public var maxDelay: Duration

        public init(maxRetries: Int = 5, initialDelay: Duration = .seconds(1), maxDelay: Duration = .seconds(60)) {
            self.maxRetries = maxRetries
            self.initialDelay = initialDelay
            self.maxDelay = maxDelay
        }

        /// The delay before retry `retry` (1-based); `unit` is uniform in `0..<1`.
        func delay(beforeRetry retry: Int, unit: Double) -> Duration {
            let settings = RetrySettings(
                maxAttempts: maxRetries + 1, baseDelay: initialDelay.secondsDouble, maxDelay: maxDelay.secondsDouble, multiplier: 2,
                backoff: .exponential, jitter: .equal)
            return .secondsClamped(RetryCore.delay(afterAttempt: retry, previous: 0, settings: settings, unit: unit))
        }
    }

    /// Names the endpoint in logs and metrics (`endpoint` label); never the URL.
    public var name: String
    public var url: WebhookURL
    public var kind: Kind
    public var events: NotificationEvents
    public var secretHeader: SecretHeader?
    /// Notifications waiting besides the one being sent; more are dropped and counted.
    public var queueCapacity: Int
    public var rateLimit: RateLimit
    public var retries: Retries
    /// The longest one request may take, connecting included.
    public var timeout: Duration

    public init(
        name: String, url: WebhookURL, kind: Kind = .json, events: NotificationEvents, secretHeader: SecretHeader? = nil,
        queueCapacity: Int = 256, rateLimit: RateLimit = RateLimit(count: 10, per: .seconds(10)), retries: Retries = Retries(),
        timeout: Duration = .seconds(10)
    ) {
        self.name = name
        self.url = url
        self.kind = kind
        self.events = events
        self.secretHeader = secretHeader
        self.queueCapacity = queueCapacity
        self.rateLimit = rateLimit
        self.retries = retries
        self.timeout = timeout
    }
}
