import Sentinel
import Tracing

extension AuditEntry {
    /// The attributes of the span event this entry becomes.
    func spanEventAttributes(_ configuration: AuditSpanSink.Configuration) -> SpanAttributes {
        var attributes = SpanAttributes()
        attributes[SentinelSpanAttribute.actor] = actor
        attributes[SentinelSpanAttribute.outcome] = outcome.rawValue
        if let target { attributes[SentinelSpanAttribute.target] = target }
        if let reason { attributes[SentinelSpanAttribute.reason] = reason }
        guard configuration.recordsArguments else { return attributes }
        if args != .object([:]) { attributes[SentinelSpanAttribute.arguments] = args.jsonString() }
        if let evidence { attributes[SentinelSpanAttribute.evidence] = evidence.jsonString() }
        if let result { attributes[SentinelSpanAttribute.result] = result.jsonString() }
        return attributes
    }
}
