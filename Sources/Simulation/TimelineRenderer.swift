import Sentinel

/// The readable form of a run: one line per thing that changed, which rule
/// changed it and why; then the totals and the expectations.
///
/// ```
///    3:00  ▲ checkout.split.canary_weight 1 → 5       canary: canary within tolerance (...)
///   10:00  ⚡ backend checkout.canary error_rate=0.035
///   10:30  ▼ checkout.split.canary_weight 10 → 0      canary: regression: errors 3.4% vs 0.5%
/// ```
public struct TimelineRenderer {
    /// ANSI colours (on a terminal, unless `NO_COLOR` is set).
    public var color: Bool
    /// Per-pipeline `stats` lines.
    public var showStats: Bool
    /// Scripts' `sentinel.log` lines at `debug` (the JSON Lines have them
    /// always; `sentinel run` does not log them unless asked, either).
    public var showDebugLogs: Bool
    /// The time, actor and reason of the last knob change shown: the next one
    /// with the same three goes on a continuation line without repeating them.
    private var lastChange: (t: Double, who: String)?

    public init(color: Bool = false, showStats: Bool = true, showDebugLogs: Bool = false) {
        self.color = color
        self.showStats = showStats
        self.showDebugLogs = showDebugLogs
    }

    private func paint(_ text: String, _ code: String) -> String { color ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
    private func dim(_ text: String) -> String { paint(text, "2") }
    private func bold(_ text: String) -> String { paint(text, "1") }
    private func green(_ text: String) -> String { paint(text, "32") }
    private func red(_ text: String) -> String { paint(text, "31") }
    private func yellow(_ text: String) -> String { paint(text, "33") }
    private func cyan(_ text: String) -> String { paint(text, "36") }

    private func stamp(_ t: Double) -> String {
        let clock = formatClock(t)
        return String(repeating: " ", count: max(0, 8 - clock.count)) + clock
    }

    private func padded(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    /// The lines for one event (none for events the timeline leaves out).
    public mutating func lines(for event: SimulationEvent, scenario: Scenario) -> [String] {
        let t = stamp(event.t)
        if event.type != "command" { lastChange = nil }
        switch event.type {
        case "start":
            var lines = [bold("Sentinel simulation · \(scenario.name)")]
            if let description = scenario.description { lines.append("  " + description) }
            let scripts = event["scripts"].map(Self.names) ?? []
            lines.append(
                dim(
                    "  \(formatSeconds(scenario.duration)) of virtual time · seed \(event["seed"]?.plainText ?? "?") · scripts: \(scripts.isEmpty ? "none" : scripts.joined(separator: ", "))"
                ))
            for spec in scenario.pipelines {
                lines.append(dim("  pipeline \(spec.name): \(Self.describe(spec))"))
            }
            for override in scenario.constants {
                lines.append(dim("  constant \(override.file): \(override.name) = \(override.luaLiteral)"))
            }
            lines.append("")
            return lines
        case "script":
            let outcome = event["outcome"]?.plainText ?? ""
            let action = (event["action"]?.plainText ?? "").replacingPrefix("script.", with: "")
            let script = event["script"]?.plainText ?? ""
            let ok = outcome == "applied"
            var line = "\(t)  \(ok ? cyan("●") : red("✗")) script \(script) \(ok ? Self.pastTense(action) : "\(action) \(outcome)")"
            if !ok, let reason = event["reason"]?.plainText { line += dim("  " + reason) }
            return [line]
        case "command":
            return [commandLine(event, t)]
        case "trial":
            return trialLines(event, t)
        case "alert":
            let severity = event["severity"]?.plainText ?? "info"
            let mark = severity == "critical" ? red("!") : yellow("!")
            return ["\(t)  \(mark) alert [\(severity)] \(event["script"]?.plainText ?? ""): \(event["message"]?.plainText ?? "")"]
        case "log":
            let level = event["level"]?.plainText ?? "info"
            guard level != "debug" || showDebugLogs else { return [] }
            let mark = level == "error" ? red("›") : level == "warning" ? yellow("›") : dim("›")
            return ["\(t)  \(mark) log [\(level)] \(event["script"]?.plainText ?? ""): \(event["message"]?.plainText ?? "")"]
        case "decision":
            return [decisionLine(event, t)]
        case "event":
            let what = event["what"]?.plainText ?? ""
            if what == "kill" {
                let outcome = event["outcome"]?.plainText ?? ""
                guard outcome == "killed" else { return ["\(t)  \(yellow("⚡")) kill: \(outcome)"] }
                let leader = event["leader"] == .bool(true) ? " (the leader)" : ""
                return ["\(t)  \(yellow("⚡")) kill \(event["target"]?.plainText ?? "")\(leader)"]
            }
            var target = event["target"]?.plainText ?? ""
            if case .string(let instance)? = event["instance"] { target += " on \(instance)" }
            let set = Self.assignments(event["set"])
            return ["\(t)  \(yellow("⚡")) \(what) \(target) \(set)"]
        case "stats":
            guard showStats else { return [] }
            let calls = Int(event["calls"]?.number ?? 0)
            var name = event["pipeline"]?.plainText ?? ""
            var stamp = t
            if case .string(let variant)? = event["variant"] {
                name += "." + variant
                stamp = String(repeating: " ", count: t.count)
            }
            guard calls > 0 else { return [dim("\(stamp)  · \(name) no calls")] }
            let text =
                "\(stamp)  · \(name) \(formatCount(calls)) calls, \(formatPercent(event["error_rate"]?.number ?? 0)) errors, p50 \(formatSeconds(event["p50"]?.number ?? 0)), p99 \(formatSeconds(event["p99"]?.number ?? 0))"
            return [dim(text)]
        case "error":
            return ["\(t)  \(red("✗ error")) \(event["message"]?.plainText ?? "")"]
        case "summary":
            return summaryLines(event)
        default:
            return []
        }
    }

    private mutating func commandLine(_ event: SimulationEvent, _ t: String) -> String {
        let outcome = event["outcome"]?.plainText ?? ""
        let action = event["action"]?.plainText ?? ""
        let target = event["target"]?.plainText ?? ""
        let actor = (event["actor"]?.plainText ?? "").replacingPrefix("script:", with: "")
        let reason = event["reason"]?.plainText
        var head: String
        if let from = event["from"]?.number, let to = event["to"]?.number {
            let arrow = to > from ? green("▲") : red("▼")
            head = "\(arrow) \(target) \(trimmed(from, digits: 4)) → \(trimmed(to, digits: 4))"
        } else {
            let value = action.hasPrefix("approval.") ? "" : Self.assignments(event["args"])
            let mark = outcome == "applied" ? cyan("◆") : (outcome == "dry_run" ? dim("◇") : red("✗"))
            head = "\(mark) \(action) \(value.isEmpty ? target : value)"
            if outcome != "applied" { head += " " + (outcome == "dry_run" ? dim("(dry run)") : red(outcome)) }
        }
        let who = actor + (reason.map { ": " + $0 } ?? "")
        defer { lastChange = (event.t, who) }
        if let last = lastChange, last.t == event.t, last.who == who {
            return String(repeating: " ", count: t.count) + "  " + head
        }
        return "\(t)  \(padded(head, color ? 52 : 44))  \(dim(who))"
    }

    /// `⇒ rollback checkout.canary (regression)      canary: errors 5.3% vs 0.6%`.
    private func decisionLine(_ event: SimulationEvent, _ t: String) -> String {
        let action = event["action"]?.plainText ?? ""
        let mark =
            switch action {
            case "rollback": red("⇒")
            case "hold": yellow("⇒")
            default: green("⇒")
            }
        var head = "\(mark) \(action) \(event["subject"]?.plainText ?? "")"
        if case .string(let verdict)? = event["verdict"] { head += " (\(verdict))" }
        if event["dry_run"] == .bool(true) { head += " " + dim("(dry run)") }
        var who = event["script"]?.plainText ?? ""
        if case .string(let reason)? = event["reason"] { who += ": " + reason }
        return "\(t)  \(padded(head, color ? 52 : 44))  \(dim(who))"
    }

    private mutating func trialLines(_ event: SimulationEvent, _ t: String) -> [String] {
        let action = event["action"]?.plainText ?? ""
        let name = event["target"]?.plainText ?? ""
        let outcome = event["outcome"]?.plainText ?? ""
        let actor = (event["actor"]?.plainText ?? "").replacingPrefix("script:", with: "")
        let who = actor + (event["reason"].map { ": " + $0.plainText } ?? "")
        lastChange = nil
        var head = "\(outcome == "applied" ? cyan("◆") : red("✗")) \(action) \(name)"
        if outcome != "applied" { head += " " + red(outcome) }
        var lines = ["\(t)  \(padded(head, color ? 61 : 44))  \(dim(who))"]
        let indent = String(repeating: " ", count: t.count) + "    "
        if action == "trial.start", outcome == "applied", case .object(let args)? = event["args"],
            case .object(let params)? = args["params"]
        {
            for knob in params.keys.sorted() {
                lines.append(indent + dim("shadow \(knob) = \(params[knob]?.plainText ?? "")"))
            }
        }
        if case .object(let changes)? = event["changes"] {
            for knob in changes.keys.sorted() {
                guard case .object(let change)? = changes[knob], let from = change["from"]?.number, let to = change["to"]?.number else {
                    continue
                }
                lines.append(
                    indent + "\(to > from ? green("▲") : red("▼")) \(knob) \(trimmed(from, digits: 4)) → \(trimmed(to, digits: 4))")
            }
        }
        return lines
    }

    private func summaryLines(_ event: SimulationEvent) -> [String] {
        var lines = ["", bold("Summary")]
        if case .object(let calls)? = event["calls"], case .object(let rates)? = event["error_rate"] {
            let failures = event["failures"]?.objectValue ?? [:]
            let slow = event["slow_calls"]?.objectValue ?? [:]
            for name in calls.keys.sorted() {
                let count = Int(calls[name]?.number ?? 0)
                var line =
                    "  \(padded(name, 24)) \(padded(formatCount(count), 12)) calls  \(formatPercent(rates[name]?.number ?? 0)) errors"
                if let failed = failures[name]?.number, let slowCount = slow[name]?.number {
                    line += " · \(formatCount(Int(failed))) failed · \(formatCount(Int(slowCount))) slow"
                }
                lines.append(line)
            }
            if let threshold = event["slow_call"]?.number {
                lines.append(dim("  slow: calls that took \(formatSeconds(threshold)) or more (the scenario's slow_call)"))
            }
        }
        if case .array(let gates)? = event["pending_approvals"], !gates.isEmpty {
            lines.append("")
            lines.append(bold("Waiting for approval"))
            for case .object(let gate) in gates {
                let asked = formatClock(gate["t"]?.number ?? 0)
                let who = (gate["requested_by"]?.plainText ?? "").replacingPrefix("script:", with: "")
                let message = gate["message"].flatMap { $0 == .null ? nil : $0.plainText }
                lines.append(
                    "  \(yellow("?")) \(gate["gate"]?.plainText ?? "")  "
                        + dim("asked at \(asked) by \(who)" + (message.map { ": " + $0 } ?? "")))
            }
        }
        if case .array(let errors)? = event["errors"], !errors.isEmpty {
            for error in errors { lines.append("  " + red("✗ error: ") + error.plainText) }
        }
        guard case .array(let results)? = event["expect"], !results.isEmpty else {
            lines.append("")
            lines.append(event["passed"] == .bool(true) ? green("PASSED") + " (no expectations)" : red("FAILED"))
            return lines
        }
        lines.append("")
        lines.append(bold("Expectations"))
        var passedCount = 0
        for case .object(let result) in results {
            let passed = result["passed"] == .bool(true)
            if passed { passedCount += 1 }
            let actual = result["actual"]?.plainText ?? "null"
            let assertion = result["assertion"]?.plainText ?? ""
            lines.append("  " + (passed ? green("✓") : red("✗")) + " \(assertion) " + dim("(actual \(actual))"))
        }
        lines.append("")
        let verdict =
            event["passed"] == .bool(true)
            ? green("PASSED") + " all \(results.count) expectations"
            : red("FAILED") + " \(results.count - passedCount) of \(results.count) expectations"
        lines.append(verdict)
        return lines
    }

    static func names(_ value: JSONValue) -> [String] {
        guard case .array(let items) = value else { return [] }
        return items.map(\.plainText)
    }

    /// `error_rate=0.035 latency={...}`, keys sorted.
    static func assignments(_ value: JSONValue?) -> String {
        guard case .object(let object)? = value else { return value?.plainText ?? "" }
        return object.keys.sorted().map { "\($0)=\(object[$0]?.plainText ?? "")" }.joined(separator: " ")
    }

    static func pastTense(_ action: String) -> String {
        switch action {
        case "load": "loaded"
        case "reload": "reloaded"
        case "unload": "unloaded"
        case "suspend": "suspended"
        default: action
        }
    }

    static func describe(_ spec: PipelineSpec) -> String {
        var parts = [spec.components.map(\.policyName).joined(separator: " → ")]
        if let traffic = spec.traffic { parts.append("\(trimmed(traffic.rate, digits: 1)) req/s \(traffic.pattern.name)") }
        switch spec.backends {
        case .shared(let backend): parts.append(describe(backend))
        case .perVariant(let list): parts.append(list.map { "\($0.variant): \(describe($0.backend))" }.joined(separator: "; "))
        }
        return parts.filter { !$0.isEmpty }.joined(separator: " · ")
    }

    static func describe(_ backend: BackendSpec) -> String {
        if let via = backend.via { return "via \(via)" }
        var text = "\(backend.latency.summary), \(formatPercent(backend.errorRate)) errors"
        if let capacity = backend.capacity { text += ", capacity \(capacity)" }
        return text
    }
}

extension TrafficPattern {
    var name: String {
        switch self {
        case .constant: "constant"
        case .ramp(let to): "ramping to \(trimmed(to, digits: 1))"
        case .step: "in steps"
        case .diurnal: "diurnal"
        case .spike(let at, let length, let factor):
            "spike ×\(trimmed(factor, digits: 1)) at \(formatClock(at)) for \(formatSeconds(length))"
        }
    }
}

extension String {
    func replacingPrefix(_ prefix: String, with replacement: String) -> String {
        hasPrefix(prefix) ? replacement + dropFirst(prefix.count) : self
    }
}
