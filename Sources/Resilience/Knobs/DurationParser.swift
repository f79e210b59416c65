/// Reads durations written the way operators write them: `"250ms"`, `"5s"`,
/// `"2m"`, `"1h"`, `"1m30s"`, `"1.5s"`, `"100us"`, or a bare number of seconds.
public enum DurationParser {
    /// The number of seconds `text` stands for.
    ///
    /// - Parameter knob: named in the error when the text cannot be read.
    /// - Throws: ``KnobError`` with code `invalid_duration` or `negative_duration`.
    public static func seconds(from text: String, knob: String = "duration") throws(KnobError) -> Double {
        let trimmed = text.trimmingWhitespace()
        if let plain = Double(trimmed) {
            guard plain.isFinite else {
                throw KnobError(.notFinite, knob: knob, "\(knob): \"\(text)\" is not a finite duration")
            }
            guard plain >= 0 else {
                throw KnobError(.negativeDuration, knob: knob, "\(knob): a duration cannot be negative (\"\(text)\")")
            }
            return plain
        }
        if trimmed.hasPrefix("-") {
            throw KnobError(.negativeDuration, knob: knob, "\(knob): a duration cannot be negative (\"\(text)\")")
        }
        var total = 0.0
        var rest = Substring(trimmed)
        guard !rest.isEmpty else {
            throw KnobError(.invalidDuration, knob: knob, "\(knob): empty duration")
        }
        while !rest.isEmpty {
            let number = rest.prefix { $0.isNumber || $0 == "." }
            rest = rest.dropFirst(number.count)
            let unit = rest.prefix { $0.isLetter || $0 == "µ" }
            rest = rest.dropFirst(unit.count)
            guard let value = Double(number), !unit.isEmpty else {
                throw KnobError(
                    .invalidDuration, knob: knob,
                    "\(knob): \"\(text)\" is not a duration (write e.g. 250ms, 5s, 2m, 1h)")
            }
            let scale: Double
            switch unit {
            case "ns": scale = 1e-9
            case "us", "µs": scale = 1e-6
            case "ms": scale = 1e-3
            case "s": scale = 1
            case "m": scale = 60
            case "h": scale = 3600
            default:
                throw KnobError(
                    .invalidDuration, knob: knob,
                    "\(knob): unknown unit \"\(unit)\" in \"\(text)\" (use ns, us, ms, s, m, h)")
            }
            total += value * scale
        }
        return total
    }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        String(drop { $0.isWhitespace }.reversed().drop { $0.isWhitespace }.reversed())
    }
}
