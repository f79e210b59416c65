import Resilience
import Sentinel

/// One SVG chart of a report: lines over the run's virtual time and the
/// decisions marked above them. Drawn entirely here, so the page shows it
/// without running a script; the page's script only adds the hover readout.
struct ReportChart {
    /// How the chart's values read.
    enum Scale {
        case count, percent, seconds
        case knob(KnobKind)
    }

    struct Line {
        var label: String
        /// Sorted by time; a nil value breaks the line (no calls, no shadow).
        var points: [(t: Double, value: Double?)]
        /// Steps (each value holds until the next) rather than straight segments.
        var step: Bool
        /// The CSS class that draws it (`s0`...`s5`, `total`, `shadow`).
        var style: String
    }

    var id: String
    var title: String
    var caption: String
    var scale: Scale
    var duration: Double
    var lines: [Line]
    /// Decisions shown on this chart, by their index in the report's list.
    var marks: [ReportMark]
    var plotHeight: Double

    // MARK: - Geometry

    static let width = 960.0
    static let left = 72.0
    static let right = 16.0
    static let top = 24.0
    static let bottom = 24.0
    static var plotWidth: Double { width - left - right }
    var height: Double { Self.top + plotHeight + Self.bottom }

    func x(_ t: Double) -> Double {
        duration > 0 ? Self.left + min(max(t / duration, 0), 1) * Self.plotWidth : Self.left
    }

    func y(_ value: Double, _ domain: (low: Double, high: Double)) -> Double {
        let span = domain.high - domain.low
        let fraction = span > 0 ? (value - domain.low) / span : 0
        return Self.top + plotHeight - min(max(fraction, 0), 1) * plotHeight
    }

    // MARK: - Domain and ticks

    /// The y range: from 0 (or below, for negative values) to a round number
    /// above the largest value, so that a canary's 1% step shows as clearly as a 50% one.
    var domain: (low: Double, high: Double) {
        let values = lines.flatMap { $0.points.compactMap(\.value) }.filter(\.isFinite)
        let largest = values.max() ?? 0
        let high: Double
        switch scale {
        case .count: high = Self.niceCeiling(max(largest, 10))
        case .percent, .seconds: high = Self.niceCeiling(max(largest, 0.01))
        case .knob: high = Self.niceCeiling(largest > 0 ? largest : 1)
        }
        let lowest = values.min() ?? 0
        return (lowest < 0 ? -Self.niceCeiling(-lowest) : 0, high)
    }

    /// Round steps: 1, 2 and 5 times a power of ten, read from text so every machine gets the same numbers.
    static let niceSteps: [Double] = (-9...15).flatMap { exponent in
        ["1", "2", "5"].compactMap { Double("\($0)e\(exponent)") }
    }

    /// The smallest round step at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        niceSteps.first { $0 >= raw } ?? raw
    }

    /// A round number at least `value`, a whole number of steps of a quarter of it.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0, value.isFinite else { return 1 }
        let step = niceStep(value / 4)
        return (value / step).rounded(.up) * step
    }

    var yTicks: [Double] {
        let (low, high) = domain
        let step = Self.niceStep((high - low) / 4)
        guard step > 0 else { return [low] }
        var ticks: [Double] = []
        var index = (low / step).rounded(.up)
        while index * step <= high + step * 1e-9, ticks.count < 12 {
            ticks.append(index * step)
            index += 1
        }
        return ticks
    }

    var xTicks: [Double] { Self.timeTicks(duration) }

    static func timeTicks(_ duration: Double) -> [Double] {
        let steps: [Double] = [
            0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 21_600, 43_200,
            86_400, 172_800, 604_800,
        ]
        let step = steps.first { duration / $0 <= 8 } ?? 604_800
        return (0...Int((duration / step).rounded(.down))).map { Double($0) * step }
    }

    // MARK: - Text

    func format(_ value: Double) -> String { Self.format(value, scale) }

    static func format(_ value: Double, _ scale: Scale) -> String {
        switch scale {
        case .count: compactCount(value)
        case .percent: formatPercent(value)
        case .seconds, .knob(.duration): formatSeconds(value)
        case .knob(.weight): "\(trimmed(value, digits: 2))%"
        case .knob(.rate): "\(trimmed(value, digits: 3))/s"
        case .knob(.integer): trimmed(value, digits: 0)
        case .knob(.ratio), .knob(.number): trimmed(value, digits: 4)
        }
    }

    /// `950`, `1.2k`, `35k`, `1.5M`.
    static func compactCount(_ value: Double) -> String {
        let magnitude = abs(value)
        if magnitude < 1_000 { return trimmed(value, digits: 1) }
        if magnitude < 1_000_000 { return "\(trimmed(value / 1_000, digits: magnitude < 10_000 ? 1 : 0))k" }
        return "\(trimmed(value / 1_000_000, digits: magnitude < 10_000_000 ? 1 : 0))M"
    }

    static func timeLabel(_ t: Double, duration: Double) -> String {
        duration < 60 ? formatSeconds(t) : formatClock(t)
    }

    /// The name JavaScript uses for the scale.
    var scaleName: String {
        switch scale {
        case .count: "count"
        case .percent: "percent"
        case .seconds: "seconds"
        case .knob(let kind): "knob-\(kind.rawValue)"
        }
    }
}

/// A coordinate with one decimal, as SVG reads it.
func svgNumber(_ value: Double) -> String { trimmed(value, digits: 1) }
