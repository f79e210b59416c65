import Sentinel

extension HTMLReport {
    /// Evidence entries shown per decision, and characters per value, before the rest is cut.
    static let evidenceEntries = 40
    static let evidenceValueLength = 600

    // MARK: - Knobs

    func knobSection(_ charts: [(chart: ReportChart, changed: Bool)]) -> String {
        var out = "<section id=\"knobs\">\n<h2>Knobs</h2>\n"
        guard !charts.isEmpty else { return out + "<p>This scenario's pipelines have no knobs.</p>\n</section>\n" }
        let changed = charts.filter(\.changed)
        let unchanged = charts.filter { !$0.changed }
        out += "<p class=\"note\">Live value as steps (each holds until the next change)"
        out += changed.contains { $0.chart.lines.count > 1 } ? ", shadow value dashed while a trial or rule set one. " : ". "
        out += "\(changed.count) of \(charts.count) \(charts.count == 1 ? "knob" : "knobs") changed during the run.</p>\n"
        for entry in changed { out += entry.chart.html }
        if !unchanged.isEmpty {
            let kept = unchanged.count == 1 ? "1 knob kept its starting value" : "\(unchanged.count) knobs kept their starting value"
            out += "<details class=\"unchanged\"><summary>\(kept)</summary>\n"
            out += "<table class=\"totals\"><tr><th>knob</th><th class=\"num\">value</th></tr>\n"
            for entry in unchanged {
                let value = entry.chart.lines.first?.points.first?.value.map { entry.chart.format($0) } ?? ""
                out += "<tr><td><code>\(HTMLText.escape(entry.chart.title))</code></td>"
                out += "<td class=\"num\">\(HTMLText.escape(value))</td></tr>\n"
            }
            out += "</table>\n"
            for entry in unchanged { out += entry.chart.html }
            out += "</details>\n"
        }
        return out + "</section>\n"
    }

    // MARK: - Decisions

    func decisionSection(_ decisions: [ReportDecision]) -> String {
        var out = "<section id=\"decisions\">\n<h2>Decisions</h2>\n"
        out += "<ul class=\"mark-legend\" aria-label=\"Marks\">\n"
        for kind in ReportDecision.Kind.allCases {
            out += "<li><svg viewBox=\"-6 4 12 14\" aria-hidden=\"true\"><g class=\"mark mark-\(kind.rawValue)\">"
            out += "<path class=\"symbol\" d=\"\(kind.symbol(at: 0))\"/></g></svg> \(HTMLText.escape(kind.legend))</li>\n"
        }
        out += "</ul>\n"
        guard !decisions.isEmpty else {
            return out + "<p>No decisions: no script, trial or scenario event changed or asked for anything.</p>\n</section>\n"
        }
        if recording.omittedDecisions > 0 {
            out += "<p class=\"note\">The first \(formatCount(decisions.count)) decisions are shown; "
            out += "\(formatCount(recording.omittedDecisions)) more are in the run's JSON Lines (<code>--json</code>).</p>\n"
        }
        out += "<table class=\"decisions\">\n<thead><tr><th class=\"num\">#</th><th>time</th><th>decision</th>"
        out += "<th>change</th><th>by</th><th>outcome</th><th>reason and evidence</th></tr></thead>\n<tbody>\n"
        for decision in decisions { out += row(decision) }
        return out + "</tbody>\n</table>\n</section>\n"
    }

    private func row(_ decision: ReportDecision) -> String {
        let outcome = decision.outcome
        var out = "<tr id=\"\(decision.anchor)\" class=\"decision decision-\(decision.kind.rawValue)\">"
        out += "<td class=\"num\"><a href=\"#\(decision.anchor)\">\(decision.index + 1)</a></td>"
        out += "<td class=\"num\">\(HTMLText.escape(ReportChart.timeLabel(decision.t, duration: recording.duration)))</td>"
        out += "<td><span class=\"kind\">\(HTMLText.escape(decision.label))</span><br>"
        out += "<code>\(HTMLText.escape(decision.headline))</code></td>"
        out += "<td class=\"change\">\(HTMLText.escape(decision.change))</td>"
        out += "<td class=\"actor\"><code>\(HTMLText.escape(decision.actor))</code></td>"
        out += "<td class=\"outcome-\(HTMLText.identifier(outcome))\">\(HTMLText.escape(outcome))</td>"
        out += "<td><div class=\"reason\">\(HTMLText.escape(decision.reason))</div>"
        if let evidence = decision.evidence { out += evidenceList(evidence, alert: decision.event.type == "alert") }
        return out + "</td></tr>\n"
    }

    private func evidenceList(_ evidence: [String: JSONValue], alert: Bool) -> String {
        let keys = evidence.keys.sorted()
        var out = "<details class=\"evidence\"><summary>\(alert ? "fields" : "evidence") (\(keys.count))</summary>"
        out += "<dl class=\"evidence\">"
        for key in keys.prefix(Self.evidenceEntries) {
            var value = evidence[key]?.plainText ?? ""
            if value.count > Self.evidenceValueLength { value = String(value.prefix(Self.evidenceValueLength)) + " …" }
            out += "<dt>\(HTMLText.escape(key))</dt><dd>\(HTMLText.escape(value))</dd>"
        }
        if keys.count > Self.evidenceEntries { out += "<dt>…</dt><dd>\(keys.count - Self.evidenceEntries) more</dd>" }
        return out + "</dl></details>"
    }
}
