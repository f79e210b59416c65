import Resilience

/// Limits on how a knob's live value may change, for knobs whose names match
/// ``pattern``. Every guard whose pattern matches applies.
///
/// A ramp wants a small ``maxStepUp`` and no ``maxStepDown``, so that a
/// rollback to 0 is never blocked by a limit meant for going up.
public struct ParameterGuard: Sendable, Hashable {
    public var pattern: NamePattern
    /// Smallest value allowed (tighter than the knob's own bounds).
    public var minimum: Double?
    /// Largest value allowed.
    public var maximum: Double?
    /// Largest increase in one change.
    public var maxStepUp: Double?
    /// Largest decrease in one change.
    public var maxStepDown: Double?
    /// Shortest time between two changes of one knob (anti-flapping).
    public var minInterval: Duration?

    public init(
        pattern: NamePattern, minimum: Double? = nil, maximum: Double? = nil, maxStepUp: Double? = nil,
        maxStepDown: Double? = nil, minInterval: Duration? = nil
    ) {
        self.pattern = pattern
        self.minimum = minimum
        self.maximum = maximum
        self.maxStepUp = maxStepUp
        self.maxStepDown = maxStepDown
        self.minInterval = minInterval
    }

    /// Nil when `current → proposed` passes, else which guard refused and why.
    /// `sinceLastChange` is nil when the knob never changed.
    func refusal(parameter: String, current: Double, proposed: Double, sinceLastChange: Duration?) -> String? {
        let guardName = "guard \(pattern)"
        if let minimum, proposed < minimum {
            return "\(guardName): \(parameter) = \(format(proposed)) is below the minimum \(format(minimum))"
        }
        if let maximum, proposed > maximum {
            return "\(guardName): \(parameter) = \(format(proposed)) is above the maximum \(format(maximum))"
        }
        let step = proposed - current
        if let maxStepUp, step > maxStepUp {
            return "\(guardName): \(parameter) \(format(current)) → \(format(proposed)) is a step up of \(format(step)), more than max_step_up \(format(maxStepUp))"
        }
        if let maxStepDown, -step > maxStepDown {
            return "\(guardName): \(parameter) \(format(current)) → \(format(proposed)) is a step down of \(format(-step)), more than max_step_down \(format(maxStepDown))"
        }
        if let minInterval, let sinceLastChange, sinceLastChange < minInterval {
            return "\(guardName): \(parameter) changed \(sinceLastChange.secondsText) ago, min_interval is \(minInterval.secondsText)"
        }
        return nil
    }
}

func format(_ value: Double) -> String {
    if value.rounded() == value, abs(value) < 1e15 { return String(Int64(value)) }
    return "\(value)"
}

extension Duration {
    /// `2.5s`, for messages.
    var secondsText: String {
        "\(format((secondsDouble * 1000).rounded() / 1000))s"
    }
}
