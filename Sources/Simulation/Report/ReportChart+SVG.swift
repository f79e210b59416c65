import Sentinel

/// A decision drawn on a chart.
struct ReportMark {
    var t: Double
    var kind: ReportDecision.Kind
    /// The anchor of its row in the decision list.
    var anchor: String
    /// Its tooltip line.
    var text: String
}

extension ReportChart {
    /// Marks closer than this (in chart units) share one symbol, whose tooltip lists them all.
    static let markSpacing = 9.0
    /// Tooltip lines of one symbol before "… and N more".
    static let markTooltipLines = 12

    /// The chart as a `<figure>`: caption with legend, the SVG, and the readout the page's script fills.
    var html: String {
        let domain = self.domain
        var out = "<figure class=\"chart\" id=\"\(id)\" data-chart=\"\(id)\">\n"
        out += "<figcaption><span class=\"chart-title\">\(HTMLText.escape(title))</span>"
        out += " <span class=\"chart-caption\">\(HTMLText.escape(caption))</span>"
        out += "<span class=\"legend\">"
        for line in lines {
            out += "<span class=\"key\"><svg class=\"swatch\" viewBox=\"0 0 28 10\" aria-hidden=\"true\">"
            out += "<line class=\"line \(line.style)\" x1=\"1\" y1=\"5\" x2=\"27\" y2=\"5\"/></svg>"
            out += HTMLText.escape(line.label) + "</span>"
        }
        out += "</span></figcaption>\n"
        out += "<svg class=\"plot\" viewBox=\"0 0 \(svgNumber(Self.width)) \(svgNumber(height))\" role=\"group\""
        out += " aria-label=\"\(HTMLText.escape(title + ", " + caption))\">\n"
        out += axes(domain)
        out += "<g class=\"series\">\n"
        for line in lines {
            let path = line.step ? stepPath(line.points, domain) : linePath(line.points, domain)
            if !path.isEmpty { out += "<path class=\"line \(line.style)\" d=\"\(path)\"/>\n" }
            out += lonePoints(line, domain)
        }
        out += "</g>\n"
        out += marksSVG()
        let bottom = svgNumber(Self.top + plotHeight)
        out += "<line class=\"crosshair\" x1=\"0\" y1=\"\(svgNumber(Self.top))\" x2=\"0\" y2=\"\(bottom)\" visibility=\"hidden\"/>\n"
        out += "</svg>\n<p class=\"readout\" aria-live=\"off\"></p>\n</figure>\n"
        return out
    }

    private func axes(_ domain: (low: Double, high: Double)) -> String {
        let plotBottom = Self.top + plotHeight
        var out = "<g class=\"axes\">\n"
        for tick in yTicks {
            let y = svgNumber(y(tick, domain))
            out += "<line class=\"grid\" x1=\"\(svgNumber(Self.left))\" y1=\"\(y)\""
            out += " x2=\"\(svgNumber(Self.width - Self.right))\" y2=\"\(y)\"/>"
            out += "<text class=\"ylabel\" x=\"\(svgNumber(Self.left - 6))\" y=\"\(y)\">\(HTMLText.escape(format(tick)))</text>\n"
        }
        for tick in xTicks {
            let x = svgNumber(x(tick))
            out += "<line class=\"tick\" x1=\"\(x)\" y1=\"\(svgNumber(plotBottom))\" x2=\"\(x)\" y2=\"\(svgNumber(plotBottom + 4))\"/>"
            out += "<text class=\"xlabel\" x=\"\(x)\" y=\"\(svgNumber(plotBottom + 16))\">"
            out += HTMLText.escape(Self.timeLabel(tick, duration: duration)) + "</text>\n"
        }
        out += "<line class=\"frame\" x1=\"\(svgNumber(Self.left))\" y1=\"\(svgNumber(plotBottom))\""
        out += " x2=\"\(svgNumber(Self.width - Self.right))\" y2=\"\(svgNumber(plotBottom))\"/>\n"
        return out + "</g>\n"
    }

    // MARK: - Lines

    /// Straight segments through the points; a nil value ends a segment.
    func linePath(_ points: [(t: Double, value: Double?)], _ domain: (low: Double, high: Double)) -> String {
        var out = ""
        var open = false
        for point in points {
            guard let value = point.value, value.isFinite else {
                open = false
                continue
            }
            out += "\(open ? "L" : "M")\(svgNumber(x(point.t))) \(svgNumber(y(value, domain)))"
            open = true
        }
        return out
    }

    /// Steps: each value holds until the next point, the last until the end of
    /// the run. Changes that fall in the same column of the drawing are drawn
    /// as one vertical stroke over their range, so the path stays as long as
    /// the chart is wide, however often a knob changed.
    func stepPath(_ points: [(t: Double, value: Double?)], _ domain: (low: Double, high: Double)) -> String {
        var out = ""
        var current: (x: Double, y: Double)?  // where the pen is, on a drawn segment
        var column: (x: Double, low: Double, high: Double)?
        func flushColumn() {
            guard let c = column, let pen = current else { return }
            if c.low < pen.y || c.high > pen.y {
                out += "V\(svgNumber(c.low))V\(svgNumber(c.high))V\(svgNumber(pen.y))"
            }
            column = nil
        }
        for point in points {
            let px = (x(point.t) * 2).rounded() / 2
            guard let value = point.value, value.isFinite else {
                flushColumn()
                if current != nil { out += "H\(svgNumber(px))" }
                current = nil
                continue
            }
            let py = y(value, domain)
            if let pen = current {
                if px > pen.x {
                    flushColumn()
                    out += "H\(svgNumber(px))V\(svgNumber(py))"
                } else {
                    // Same column: remember the range crossed, end at the newest value.
                    let low = min(column?.low ?? pen.y, pen.y, py)
                    let high = max(column?.high ?? pen.y, pen.y, py)
                    column = (px, low, high)
                }
                current = (max(px, pen.x), py)
            } else {
                out += "M\(svgNumber(px)) \(svgNumber(py))"
                current = (px, py)
            }
        }
        flushColumn()
        if current != nil { out += "H\(svgNumber(x(duration)))" }
        return out
    }

    /// A point with no neighbour on its line draws no segment: a dot shows it.
    private func lonePoints(_ line: Line, _ domain: (low: Double, high: Double)) -> String {
        guard !line.step else { return "" }
        var out = ""
        for (index, point) in line.points.enumerated() {
            guard let value = point.value, value.isFinite else { continue }
            let before = index > 0 ? line.points[index - 1].value : nil
            let after = index + 1 < line.points.count ? line.points[index + 1].value : nil
            guard before == nil, after == nil else { continue }
            out += "<circle class=\"dot \(line.style)\" cx=\"\(svgNumber(x(point.t)))\" cy=\"\(svgNumber(y(value, domain)))\" r=\"2.5\"/>\n"
        }
        return out
    }

    // MARK: - Marks

    /// The decisions, grouped where they would overlap: a symbol in the lane
    /// above the plot, a dashed line down through it, a tooltip, and a link to the list.
    private func marksSVG() -> String {
        guard !marks.isEmpty else { return "" }
        var groups: [[ReportMark]] = []
        for mark in marks.sorted(by: { ($0.t, $0.anchor.count, $0.anchor) < ($1.t, $1.anchor.count, $1.anchor) }) {
            if let first = groups.last?.first, x(mark.t) - x(first.t) < Self.markSpacing {
                groups[groups.count - 1].append(mark)
            } else {
                groups.append([mark])
            }
        }
        let plotBottom = svgNumber(Self.top + plotHeight)
        var out = "<g class=\"marks\">\n"
        for group in groups {
            guard let first = group.first else { continue }
            // A failure, refusal, rollback or promotion stands out; otherwise the
            // first decision leads (a canary's own weight before stable's).
            let urgent = group.filter { $0.kind.priority >= ReportDecision.Kind.promoted.priority }
            let lead = urgent.max { $0.kind.priority < $1.kind.priority } ?? first
            let x = x(first.t)
            var tooltip = group.prefix(Self.markTooltipLines).map(\.text)
            if group.count > Self.markTooltipLines { tooltip.append("… and \(group.count - Self.markTooltipLines) more") }
            out += "<a class=\"mark mark-\(lead.kind.rawValue)\" href=\"#\(first.anchor)\" data-t=\"\(trimmed(first.t, digits: 3))\">"
            out += "<title>\(HTMLText.escape(tooltip.joined(separator: "\n")))</title>"
            out += "<line class=\"mark-line\" x1=\"\(svgNumber(x))\" y1=\"18\" x2=\"\(svgNumber(x))\" y2=\"\(plotBottom)\"/>"
            out += "<path class=\"symbol\" d=\"\(lead.kind.symbol(at: x))\"/>"
            if group.count > 1 {
                out += "<text class=\"count\" x=\"\(svgNumber(x + 7))\" y=\"10\">\(group.count)</text>"
            }
            out += "</a>\n"
        }
        return out + "</g>\n"
    }
}
