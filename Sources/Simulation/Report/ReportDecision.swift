import Sentinel

/// One decision of a run as the report shows it: a mark on the charts and a
/// row in the list, read from a recorded event.
struct ReportDecision {
    /// What kind of decision, which decides its mark's shape and its label
    /// (so that no meaning rests on colour alone).
    enum Kind: String, CaseIterable {
        case raised, lowered, command
        case dryRun = "dry-run"
        case refused, promoted
        case rolledBack = "rolled-back"
        case trial, alert, critical, scenario, failure

        var label: String {
            switch self {
            case .raised: "knob raised"
            case .lowered: "knob lowered"
            case .command: "command"
            case .dryRun: "dry run"
            case .refused: "refused"
            case .promoted: "trial promoted"
            case .rolledBack: "trial rolled back"
            case .trial: "trial"
            case .alert: "alert"
            case .critical: "critical alert"
            case .scenario: "scenario event"
            case .failure: "failure"
            }
        }

        /// The legend's words: the kinds whose marks a rule's `sentinel.decision` shares say so.
        var legend: String {
            switch self {
            case .raised: "knob raised, decision to advance"
            case .command: "command, decision to hold"
            case .promoted: "trial promoted, decision to promote"
            case .rolledBack: "trial rolled back, decision to roll back"
            default: label
            }
        }

        /// Which mark a group of decisions at one place shows: from `promoted` up,
        /// the highest stands out; below it, the group's first decision leads.
        var priority: Int {
            switch self {
            case .failure: 11
            case .critical: 10
            case .rolledBack: 9
            case .refused: 8
            case .promoted: 7
            case .lowered: 6
            case .raised: 5
            case .alert: 4
            case .trial: 3
            case .command: 2
            case .dryRun: 1
            case .scenario: 0
            }
        }

        /// The mark's outline, centred on `x` in the lane above a plot (y 5 to 17).
        func symbol(at x: Double) -> String {
            let (l, r, c) = (svgNumber(x - 5), svgNumber(x + 5), svgNumber(x))
            switch self {
            case .raised: return "M\(l) 17L\(c) 5L\(r) 17Z"
            case .lowered, .rolledBack: return "M\(l) 5L\(r) 5L\(c) 17Z"
            case .refused, .failure:
                return "M\(svgNumber(x - 4)) 7L\(svgNumber(x + 4)) 15M\(svgNumber(x + 4)) 7L\(svgNumber(x - 4)) 15"
            case .scenario: return "M\(svgNumber(x - 4)) 7H\(svgNumber(x + 4))V15H\(svgNumber(x - 4))Z"
            case .alert, .critical, .promoted:
                return "M\(l) 11A5 5 0 1 0 \(r) 11A5 5 0 1 0 \(l) 11Z"
            case .command, .dryRun, .trial: return "M\(c) 5L\(r) 11L\(c) 17L\(l) 11Z"
            }
        }
    }

    /// Position in the report's list (its row is `d-<index + 1>`).
    var index: Int
    var t: Double
    var kind: Kind
    var event: SimulationEvent
    /// The knobs it names or changed.
    var knobs: Set<String>
    /// The pipelines it concerns; empty when it concerns the whole run (an alert, a freeze).
    var pipelines: Set<String>

    var anchor: String { "d-\(index + 1)" }

    init(index: Int, event: SimulationEvent, knobNames: Set<String>, pipelineNames: Set<String>) {
        self.index = index
        self.event = event
        t = event.t
        kind = Self.kind(of: event)
        var knobs: Set<String> = []
        func note(_ value: JSONValue?) {
            if case .string(let name)? = value, knobNames.contains(name) { knobs.insert(name) }
        }
        note(event["target"])
        note(event["subject"])
        if case .object(let args)? = event["args"] {
            note(args["param"])
            if case .object(let params)? = args["params"] { knobs.formUnion(params.keys.filter(knobNames.contains)) }
        }
        if case .object(let changes)? = event["changes"] { knobs.formUnion(changes.keys.filter(knobNames.contains)) }
        self.knobs = knobs
        var pipelines: Set<String> = []
        var names = Array(knobs)
        if case .string(let target)? = event["target"] { names.append(target) }
        if case .string(let subject)? = event["subject"] { names.append(subject) }
        if case .object(let args)? = event["args"], case .string(let pipeline)? = args["pipeline"] { names.append(pipeline) }
        for name in names {
            let first = String(name.split(separator: ".", maxSplits: 1).first ?? "")
            if pipelineNames.contains(first) { pipelines.insert(first) }
        }
        self.pipelines = pipelines
    }

    static func kind(of event: SimulationEvent) -> Kind {
        let outcome = event["outcome"]?.plainText
        let action = event["action"]?.plainText ?? ""
        switch event.type {
        case "alert": return event["severity"] == .string("critical") ? .critical : .alert
        case "event": return .scenario
        case "error": return .failure
        case "script": return outcome == "applied" && action != "script.suspend" ? .command : .failure
        case "decision":
            // A rule's own `sentinel.decision`: the mark of what it decided, as the commands that carry it out have.
            if event["dry_run"] == .bool(true) { return .dryRun }
            switch action {
            case "rollback": return .rolledBack
            case "promote": return .promoted
            case "advance": return .raised
            default: return .command
            }
        case "trial":
            if let outcome, outcome != "applied" { return outcome == "dry_run" ? .dryRun : .refused }
            switch action {
            case "trial.promote": return .promoted
            case "trial.rollback": return .rolledBack
            default: return .trial
            }
        default:
            if let outcome, outcome != "applied" { return outcome == "dry_run" ? .dryRun : .refused }
            if let from = event["from"]?.number, let to = event["to"]?.number { return to > from ? .raised : .lowered }
            return .command
        }
    }

    // MARK: - Text

    /// What kind of decision, in words: the kind's label, or `decision` for a rule's `sentinel.decision`.
    var label: String {
        guard event.type == "decision" else { return kind.label }
        return event["dry_run"] == .bool(true) ? "decision (dry run)" : "decision"
    }

    /// What happened, in a few words: `param.set checkout.split.canary_weight`.
    var headline: String {
        switch event.type {
        case "decision": return "\(event["action"]?.plainText ?? "") \(event["subject"]?.plainText ?? "")"
        case "alert": return "alert [\(event["severity"]?.plainText ?? "info")]"
        case "event":
            return "\(event["what"]?.plainText ?? "event") \(event["target"]?.plainText ?? "")"
        case "error": return "error of the run"
        case "script": return "\(event["action"]?.plainText ?? "script") \(event["script"]?.plainText ?? "")"
        default:
            let action = event["action"]?.plainText ?? event.type
            guard let target = event["target"]?.plainText else { return action }
            return "\(action) \(target)"
        }
    }

    /// The values it changed: `1 → 5`, `checkout.timeout.duration 2 → 1.5`, or its arguments.
    var change: String {
        if let from = event["from"]?.number, let to = event["to"]?.number {
            return "\(trimmed(from, digits: 4)) → \(trimmed(to, digits: 4))"
        }
        if case .object(let changes)? = event["changes"], !changes.isEmpty {
            return changes.keys.sorted().compactMap { knob in
                guard case .object(let change)? = changes[knob], let from = change["from"]?.number,
                    let to = change["to"]?.number
                else { return nil }
                return "\(knob) \(trimmed(from, digits: 4)) → \(trimmed(to, digits: 4))"
            }.joined(separator: "\n")
        }
        if case .object(let args)? = event["args"], case .object(let params)? = args["params"], !params.isEmpty {
            return params.keys.sorted().map { "shadow \($0) = \(params[$0]?.plainText ?? "")" }.joined(separator: "\n")
        }
        let text =
            switch event.type {
            case "decision": ""
            case "event": TimelineRenderer.assignments(event["set"])
            case "command", "trial": TimelineRenderer.assignments(event["args"])
            default: ""
            }
        return text.count > Self.changeLength ? String(text.prefix(Self.changeLength)) + " …" : text
    }

    /// Characters of a command's arguments shown as its change.
    static let changeLength = 300

    /// Who decided: `script:canary`, `operator:scenario`, `sentinel`, or the scenario for its events.
    var actor: String {
        switch event.type {
        case "alert": return event["script"].map { "script:\($0.plainText)" } ?? ""
        case "event": return "scenario"
        case "error": return event["script"].map { "script:\($0.plainText)" } ?? "simulation"
        case "decision": return "script:\(event["script"]?.plainText ?? "")"
        default: return event["actor"]?.plainText ?? ""
        }
    }

    /// `applied`, `rejected`, ... for commands; the severity for alerts; the verdict for decisions.
    var outcome: String {
        switch event.type {
        case "alert": return event["severity"]?.plainText ?? ""
        case "decision": return event["verdict"]?.stringValue ?? ""
        case "event", "error": return ""
        default: return event["outcome"]?.plainText ?? ""
        }
    }

    /// The reason, or an alert's or error's message.
    var reason: String {
        switch event.type {
        case "alert", "error": return event["message"]?.plainText ?? ""
        case "decision": return event["reason"]?.stringValue ?? ""
        default: return event["reason"]?.plainText ?? ""
        }
    }

    /// The evidence (alerts: their fields), or nil.
    var evidence: [String: JSONValue]? {
        let value = event.type == "alert" ? event["fields"] : event["evidence"]
        guard case .object(let object)? = value, !object.isEmpty else { return nil }
        return object
    }

    /// One line for a mark's tooltip.
    func summaryLine(duration: Double) -> String {
        var line = "\(ReportChart.timeLabel(t, duration: duration))  \(label): \(headline)"
        let change = self.change.replacingOccurrences("\n", with: "; ")
        if !change.isEmpty { line += " \(change)" }
        if !outcome.isEmpty, outcome != "applied" { line += " (\(outcome))" }
        let reason = self.reason
        if !reason.isEmpty { line += " — \(actor): \(reason)" } else if !actor.isEmpty { line += " — \(actor)" }
        return line
    }
}

extension String {
    /// Every occurrence of `target` replaced (no Foundation in this module).
    func replacingOccurrences(_ target: Character, with replacement: String) -> String {
        var out = ""
        for character in self { if character == target { out += replacement } else { out.append(character) } }
        return out
    }
}
