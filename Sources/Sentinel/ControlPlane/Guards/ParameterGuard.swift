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
        boundsRefusal(parameter: parameter, proposed: proposed)
            ?? stepRefusal(parameter: parameter, current: current, proposed: proposed)
            ?? intervalRefusal(parameter: parameter, sinceLastChange: sinceLastChange)
    }

    /// `min` and `max`: nil when `proposed` lies within them.
    func boundsRefusal(parameter: String, proposed: Double) -> String? {
        if let minimum, proposed < minimum {
            return "guard \(pattern): \(parameter) = \(format(proposed)) is below the minimum \(format(minimum))"
        }
        if let maximum, proposed > maximum {
            return "guard \(pattern): \(parameter) = \(format(proposed)) is above the maximum \(format(maximum))"
        }
        return nil
    }

    /// `max_step_up` and `max_step_down`: nil when the step is within them.
    func stepRefusal(parameter: String, current: Double, proposed: Double) -> String? {
        let step = proposed - current
        if let maxStepUp, step > maxStepUp {
            return
                "guard \(pattern): \(parameter) \(format(current)) → \(format(proposed)) is a step up of \(format(step)), more than max_step_up \(format(maxStepUp))"
        }
        if let maxStepDown, -step > maxStepDown {
            return
                "guard \(pattern): \(parameter) \(format(current)) → \(format(proposed)) is a step down of \(format(-step)), more than max_step_down \(format(maxStepDown))"
        }
        return nil
    }

    /// `min_interval`: nil when the knob last changed long enough ago (or never).
    func intervalRefusal(parameter: String, sinceLastChange: Duration?) -> String? {
        if let minInterval, let sinceLastChange, sinceLastChange < minInterval {
            return "guard \(pattern): \(parameter) changed \(sinceLastChange.secondsText) ago, min_interval is \(minInterval.secondsText)"
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
