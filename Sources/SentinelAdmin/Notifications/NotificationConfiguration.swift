import Resilience
import Sentinel

/// The `notifications` section of `sentinel run --config`: a list of webhook
/// endpoints. The rest of the file is the control plane's
/// (``ControlPlaneConfiguration``), which accepts this section and leaves it
/// here.
///
/// ```yaml
/// notifications:
///   - name: ops-chat
///     url: { env: SENTINEL_SLACK_WEBHOOK }   # or a plain "https://..."
///     kind: slack                            # or json (the default)
///     events:
///       alerts: warning                      # info, warning or critical and above
///       audit:
///         - actions: ["trial.*", "approval.grant", "approval.deny"]
///           outcomes: [applied]
///       approvals: true                      # approval.request, once per gate
///     secret_header: { name: X-Sentinel-Token, file: /etc/sentinel/webhook.token }
///     queue: 256
///     rate_limit: { count: 10, per: 10s }
///     retries: { max: 5, initial_delay: 1s, max_delay: 1m }
///     timeout: 10s
/// ```
///
/// Errors name the file, the line and the field
/// (`sentinel.yaml:7: notifications[1].kind: ...`); a secret's value is never
/// part of one.
public struct NotificationConfiguration: Sendable, Hashable {
    /// The top-level field this configuration reads.
    public static let section = "notifications"

    public var endpoints: [NotificationEndpoint]

    public init(endpoints: [NotificationEndpoint] = []) {
        self.endpoints = endpoints
    }

    /// Reads the `notifications` section of a whole configuration file (the
    /// other top-level fields are left to their readers); none: no endpoints.
    ///
    /// - Parameter environment: looks up the variables that `{ env: NAME }` names.
    public init(
        yaml: String, file: String? = nil, environment: (String) -> String? = NotificationSecret.processEnvironment
    ) throws(ConfigurationError) {
        try self.init(root: YAMLValue.parse(yaml, file: file), environment: environment)
    }

    /// Reads the `notifications` field of `root` (a whole file's node).
    public init(root: YAMLValue, environment: (String) -> String? = NotificationSecret.processEnvironment) throws(ConfigurationError) {
        self.init()
        guard !root.isNull else { return }
        guard let section = try root.mapping().first(where: { $0.key == Self.section })?.value, !section.isNull else { return }
        var names: [String: Int] = [:]
        for node in try section.sequence() {
            let endpoint = try Self.endpoint(node, environment: environment)
            if let line = names[endpoint.name] {
                throw node.error(
                    "two endpoints are named \"\(endpoint.name)\" (the other at line \(line)); give each a distinct name")
            }
            names[endpoint.name] = node.line ?? 0
            endpoints.append(endpoint)
        }
    }

    static let endpointFields: Set<String> = [
        "name", "url", "kind", "events", "secret_header", "queue", "rate_limit", "retries", "timeout",
    ]

    private static func endpoint(_ node: YAMLValue, environment: (String) -> String?) throws(ConfigurationError) -> NotificationEndpoint {
        let fields = try node.fields(allowing: endpointFields)
        guard let urlNode = fields["url"] else { throw node.error("an endpoint needs 'url'") }
        let urlText = try secret(urlNode, environment: environment, inline: true)
        let url: WebhookURL
        do {
            url = try WebhookURL(urlText)
        } catch {
            throw urlNode.error(error.message)
        }
        var name = url.host
        if let nameNode = fields["name"] {
            name = try nameNode.string()
            guard !name.isEmpty, name.utf8.count <= 64,
                name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.".contains($0)) })
            else {
                throw nameNode.error("a name is 1 to 64 letters, digits, _ - . (it labels metrics and logs)")
            }
        }
        var kind = NotificationEndpoint.Kind.json
        if let kindNode = fields["kind"] {
            let text = try kindNode.string()
            guard let parsed = NotificationEndpoint.Kind(rawValue: text) else {
                throw kindNode.error("expected json or slack, got \"\(text.excerpt())\"")
            }
            kind = parsed
        }
        guard let eventsNode = fields["events"] else {
            throw node.error("an endpoint needs 'events' (alerts, audit, approvals): say what to send")
        }
        let events = try Self.events(eventsNode)
        var endpoint = NotificationEndpoint(name: name, url: url, kind: kind, events: events)
        if let headerNode = fields["secret_header"] { endpoint.secretHeader = try secretHeader(headerNode, environment: environment) }
        if let queue = fields["queue"] { endpoint.queueCapacity = try queue.int(in: .notificationQueue) }
        if let rateNode = fields["rate_limit"] {
            let rate = try rateNode.fields(allowing: ["count", "per"])
            guard let count = rate["count"], let per = rate["per"] else {
                throw rateNode.error("a rate limit needs 'count' and 'per' (for example { count: 10, per: 10s })")
            }
            endpoint.rateLimit = .init(count: try count.int(in: .notificationRateCount), per: try per.duration(in: .notificationPeriod))
        }
        if let retriesNode = fields["retries"] {
            let retries = try retriesNode.fields(allowing: ["max", "initial_delay", "max_delay"])
            if let max = retries["max"] { endpoint.retries.maxRetries = try max.int(in: .notificationRetries) }
            if let initial = retries["initial_delay"] { endpoint.retries.initialDelay = try initial.duration(in: .notificationDelay) }
            if let maxDelay = retries["max_delay"] { endpoint.retries.maxDelay = try maxDelay.duration(in: .notificationDelay) }
            if endpoint.retries.maxDelay < endpoint.retries.initialDelay {
                throw (retries["max_delay"] ?? retriesNode).error("max_delay is shorter than initial_delay")
            }
        }
        if let timeout = fields["timeout"] { endpoint.timeout = try timeout.duration(in: .notificationTimeout) }
        return endpoint
    }

    private static func events(_ node: YAMLValue) throws(ConfigurationError) -> NotificationEvents {
        let fields = try node.fields(allowing: ["alerts", "audit", "approvals"])
        var events = NotificationEvents()
        if let alerts = fields["alerts"], !alerts.isNull {
            let text = try alerts.string()
            guard let severity = Alert.Severity(rawValue: text) else {
                throw alerts.error("expected the minimum severity: info, warning or critical, got \"\(text.excerpt())\"")
            }
            events.minimumAlertSeverity = severity
        }
        if let audit = fields["audit"], !audit.isNull {
            // One rule, or a list of rules.
            let rules: [YAMLValue]
            if (try? audit.mapping()) != nil { rules = [audit] } else { rules = try audit.sequence() }
            for ruleNode in rules {
                let rule = try ruleNode.fields(allowing: ["actions", "outcomes"])
                guard let actions = rule["actions"] else {
                    throw ruleNode.error("an audit rule needs 'actions' (patterns such as \"trial.*\" or \"*\")")
                }
                var parsed = NotificationEvents.AuditRule(actions: try actionPatterns(actions))
                if let outcomesNode = rule["outcomes"] {
                    var outcomes: Set<AuditOutcome> = []
                    for item in try outcomesNode.sequence() {
                        let text = try item.string()
                        guard let outcome = AuditOutcome(rawValue: text) else {
                            let known = AuditOutcome.allCases.map(\.rawValue).joined(separator: ", ")
                            throw item.error("expected an outcome (\(known)), got \"\(text.excerpt())\"")
                        }
                        outcomes.insert(outcome)
                    }
                    guard !outcomes.isEmpty else { throw outcomesNode.error("an empty list of outcomes would match nothing") }
                    parsed.outcomes = outcomes
                }
                events.audit.append(parsed)
            }
        }
        if let approvals = fields["approvals"] { events.approvals = try approvals.bool() }
        if events.isEmpty { throw node.error("no events selected: give alerts, audit or approvals: true") }
        return events
    }

    private static func actionPatterns(_ node: YAMLValue) throws(ConfigurationError) -> [NamePattern] {
        guard !node.isNull else { throw node.error("expected a list of action patterns, got nothing (it would match nothing)") }
        let items = try node.sequence()
        guard !items.isEmpty else { throw node.error("an empty list of actions would match nothing") }
        var patterns: [NamePattern] = []
        for item in items {
            let text = try item.string()
            guard !text.isEmpty, text.utf8.count <= 256,
                text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "_-.:*".contains($0)) })
            else {
                throw item.error("\"\(text.excerpt())\" is not an action pattern (letters, digits, _ - . : and * as a wildcard)")
            }
            patterns.append(NamePattern(text))
        }
        return patterns
    }

    /// `{ file: PATH }`, `{ env: NAME }`, or (where `inline`) a plain string.
    private static func secret(
        _ node: YAMLValue, environment: (String) -> String?, inline: Bool
    ) throws(ConfigurationError) -> NotificationSecret {
        if inline, (try? node.mapping()) == nil {
            let text = try node.string()
            return NotificationSecret(text.trimmingWhitespace(), source: .inline)
        }
        let fields = try node.fields(allowing: ["file", "env"])
        let source: NotificationSecret.Source
        switch (fields["file"], fields["env"]) {
        case (let file?, nil): source = .file(try file.string())
        case (nil, let env?): source = .environment(try env.string())
        default:
            throw node.error(
                inline ? "expected a URL, { file: PATH } or { env: NAME }" : "expected one of { file: PATH } or { env: NAME }")
        }
        do {
            return try NotificationSecret.read(source, environment: environment)
        } catch {
            throw node.error(error.message)
        }
    }

    private static func secretHeader(
        _ node: YAMLValue, environment: (String) -> String?
    ) throws(ConfigurationError) -> NotificationEndpoint.SecretHeader {
        let fields = try node.fields(allowing: ["name", "file", "env"])
        guard let nameNode = fields["name"] else { throw node.error("a secret header needs 'name' (such as Authorization)") }
        let name = try nameNode.string()
        guard !name.isEmpty, name.utf8.count <= 128, name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || "-_".contains($0)) })
        else {
            throw nameNode.error("\"\(name.excerpt())\" is not a header name (letters, digits, - and _)")
        }
        let reserved = ["content-type", "content-length", "host", "transfer-encoding", "connection"]
        guard !reserved.contains(name.lowercased()) else { throw nameNode.error("\(name) is set by the sender; pick another header") }
        let origin: (node: YAMLValue, source: NotificationSecret.Source)
        switch (fields["file"], fields["env"]) {
        case (let file?, nil): origin = (file, .file(try file.string()))
        case (nil, let env?): origin = (env, .environment(try env.string()))
        default: throw node.error("a secret header's value comes from one of file: PATH or env: NAME")
        }
        let value: NotificationSecret
        do {
            value = try NotificationSecret.read(origin.source, environment: environment)
        } catch {
            throw origin.node.error(error.message)
        }
        guard !value.reveal().contains(where: { $0 == "\r" || $0 == "\n" || $0 == "\0" }) else {
            throw origin.node.error("the value read from \(value.source) holds a line break")
        }
        return .init(name: name, value: value)
    }
}

extension InputRange {
    /// A queue: 1 to 100,000 notifications.
    static let notificationQueue = InputRange(1, 100_000, unit: .number, wholeNumber: true)
    /// A rate limit's count: 1 to 100,000.
    static let notificationRateCount = InputRange(1, 100_000, unit: .number, wholeNumber: true)
    /// A rate limit's period: 1 ms to 24 h.
    static let notificationPeriod = InputRange.seconds(0.001...86_400)
    /// Retries: 0 to 100.
    static let notificationRetries = InputRange(0, 100, unit: .number, wholeNumber: true)
    /// A retry delay: 0 to 1 h.
    static let notificationDelay = InputRange.seconds(0...3_600)
    /// A request's timeout: 1 ms to 10 min.
    static let notificationTimeout = InputRange.seconds(0.001...600)
}
