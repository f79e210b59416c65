/// The report's style sheet and script: written for this project, inline in
/// every report, and allowed by the page's Content-Security-Policy through
/// their SHA-256 hashes only.
extension HTMLReport {
    static let styleSheet = #"""
        :root { --fg: #1b1f24; --muted: #57606a; --rule: #d0d7de; --soft: #f6f8fa; --good: #1a7f37; --bad: #b42318;
          --warn: #8a5300; --focus: #0969da; }
        * { box-sizing: border-box; }
        body { margin: 0; color: var(--fg); background: #fff; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
        header, main, nav { max-width: 1120px; margin: 0 auto; padding: 0 20px; }
        header { padding-top: 18px; }
        h1 { font-size: 22px; margin: 0 0 4px; }
        h2 { font-size: 18px; margin: 28px 0 8px; border-bottom: 1px solid var(--rule); padding-bottom: 4px; }
        h3 { font-size: 15px; margin: 18px 0 6px; }
        p { margin: 4px 0; }
        .meta, .note { color: var(--muted); }
        nav { margin-top: 10px; display: flex; flex-wrap: wrap; gap: 4px 16px; }
        a { color: var(--focus); }
        a:focus-visible { outline: 2px solid var(--focus); outline-offset: 2px; }
        code { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
        .verdict { display: inline-block; margin: 8px 0 2px; padding: 2px 10px; border-radius: 4px; font-weight: 600; border: 1px solid; }
        .verdict.pass { color: var(--good); border-color: var(--good); }
        .verdict.fail { color: var(--bad); border-color: var(--bad); }
        ul.expectations { list-style: none; padding: 0; margin: 6px 0; }
        ul.expectations li { margin: 2px 0; }
        .pass-mark { color: var(--good); font-weight: 600; }
        .fail-mark { color: var(--bad); font-weight: 600; }
        table { border-collapse: collapse; width: 100%; }
        th, td { text-align: left; vertical-align: top; padding: 4px 8px; border-bottom: 1px solid var(--rule); }
        th { background: var(--soft); font-weight: 600; }
        td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
        table.totals { width: auto; }
        figure.chart { margin: 10px 0 14px; }
        figcaption { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 12px; }
        .chart-title { font-weight: 600; }
        .chart-caption { color: var(--muted); }
        .legend { display: flex; flex-wrap: wrap; gap: 4px 14px; margin-left: auto; }
        .key { display: inline-flex; align-items: center; gap: 4px; }
        svg.swatch { width: 28px; height: 10px; }
        svg.plot { display: block; width: 100%; height: auto; overflow: visible; }
        svg text { font: 11px system-ui, sans-serif; fill: var(--muted); }
        .ylabel { text-anchor: end; dominant-baseline: middle; }
        .xlabel { text-anchor: middle; }
        .grid { stroke: #eaeef2; stroke-width: 1; }
        .tick, .frame { stroke: #8c959f; stroke-width: 1; }
        svg .line { fill: none; stroke-width: 1.8; stroke-linejoin: round; }
        .dot { stroke: none; }
        .s0 { stroke: #0a5ec2; fill: #0a5ec2; }
        .s1 { stroke: #c4510b; fill: #c4510b; stroke-dasharray: 7 3; }
        .s2 { stroke: #1a7f37; fill: #1a7f37; stroke-dasharray: 2 2; }
        .s3 { stroke: #8250df; fill: #8250df; stroke-dasharray: 9 3 2 3; }
        .s4 { stroke: #bf3989; fill: #bf3989; stroke-dasharray: 1 3; }
        .s5 { stroke: #4d5a00; fill: #4d5a00; stroke-dasharray: 12 4; }
        .total { stroke: #57606a; fill: #57606a; stroke-width: 1.2; }
        .shadow { stroke: #c4510b; fill: #c4510b; stroke-dasharray: 4 3; }
        .crosshair { stroke: #1b1f24; stroke-width: 1; stroke-dasharray: 1 2; }
        .readout { min-height: 1.45em; margin: 2px 0 0 72px; color: var(--muted); font-variant-numeric: tabular-nums; }
        .mark .mark-line { stroke: #8c959f; stroke-width: 1; stroke-dasharray: 2 3; }
        .mark .symbol { stroke: #24292f; stroke-width: 1.2; fill: #fff; }
        .mark .count { font-size: 10px; fill: var(--fg); }
        .mark-raised .symbol, .mark-promoted .symbol { fill: var(--good); }
        .mark-lowered .symbol, .mark-rolled-back .symbol { fill: #d1242f; }
        .mark-refused .symbol, .mark-failure .symbol { stroke: var(--bad); stroke-width: 2.4; }
        .mark-alert .symbol { fill: #d4a72c; }
        .mark-critical .symbol { fill: var(--bad); }
        .mark-command .symbol, .mark-trial .symbol { fill: #0a5ec2; }
        .mark-scenario .symbol { fill: #6e7781; }
        .mark:hover .mark-line, .mark:focus .mark-line { stroke: #1b1f24; stroke-dasharray: none; }
        .mark:hover .symbol, .mark:focus .symbol { stroke-width: 2.4; }
        .mark:focus { outline: none; }
        .mark:focus-visible .symbol { stroke: var(--focus); stroke-width: 3; }
        ul.mark-legend { list-style: none; padding: 0; display: flex; flex-wrap: wrap; gap: 4px 16px; }
        ul.mark-legend svg { width: 14px; height: 14px; vertical-align: -2px; overflow: visible; }
        table.decisions td { font-size: 13px; }
        table.decisions tr:target td { background: #fff8c5; }
        table.decisions tr:target td:first-child { box-shadow: inset 4px 0 0 #bf8700; }
        .kind, td.actor code { white-space: nowrap; }
        .outcome-applied { color: var(--good); }
        .outcome-denied, .outcome-rejected, .outcome-failed, .outcome-critical { color: var(--bad); font-weight: 600; }
        .outcome-warning { color: var(--warn); font-weight: 600; }
        .change { white-space: pre-line; max-width: 24em; overflow-wrap: anywhere; }
        .reason { white-space: pre-wrap; overflow-wrap: anywhere; }
        details.evidence { margin-top: 2px; }
        details.evidence summary { cursor: pointer; color: var(--muted); }
        dl.evidence { display: grid; grid-template-columns: max-content 1fr; gap: 0 10px; margin: 4px 0; }
        dl.evidence dt { color: var(--muted); }
        dl.evidence dd { margin: 0; white-space: pre-wrap; overflow-wrap: anywhere; }
        details.unchanged > summary { cursor: pointer; margin: 8px 0; }
        @media (max-width: 760px) {
          header, main, nav { padding: 0 10px; }
          .legend { margin-left: 0; }
          .readout { margin-left: 0; }
          table.decisions th:nth-child(5), table.decisions td:nth-child(5) { display: none; }
        }
        """#

    static let script = #"""
        "use strict";
        (() => {
          const data = JSON.parse(document.getElementById("report-data").textContent);
          const WIDTH = 960, LEFT = 72, PLOT = 872;
          const pad = (n) => (n < 10 ? "0" : "") + n;
          const clock = (t) => {
            if (data.duration < 60) return seconds(t);
            const whole = Math.floor(t), h = Math.floor(whole / 3600), m = Math.floor((whole % 3600) / 60), s = whole % 60;
            return h > 0 ? h + ":" + pad(m) + ":" + pad(s) : m + ":" + pad(s);
          };
          const trim = (v, digits) => String(Number(v.toFixed(digits)));
          const seconds = (v) => (v === 0 ? "0s" : v < 0.001 ? trim(v * 1e6, 0) + "µs" : v < 1 ? trim(v * 1e3, 1) + "ms" : trim(v, 2) + "s");
          const formats = {
            "count": (v) => Math.round(v).toLocaleString("en-US"),
            "percent": (v) => trim(v * 100, v < 0.1 ? 2 : 1) + "%",
            "seconds": seconds,
            "knob-duration": seconds,
            "knob-weight": (v) => trim(v, 2) + "%",
            "knob-rate": (v) => trim(v, 3) + "/s",
            "knob-integer": (v) => trim(v, 0),
          };
          const format = (scale, v) => (formats[scale] || ((x) => trim(x, 4)))(v);
          const valueAt = (line, t) => {
            if (line.t) {
              let found = null;
              for (let i = 0; i < line.t.length && line.t[i] <= t; i++) found = line.v[i];
              return found;
            }
            let i = data.times.findIndex((s) => s >= t);
            if (i < 0) i = data.times.length - 1;
            return i < 0 ? null : line.v[i];
          };
          const figures = Array.from(document.querySelectorAll("figure.chart"));
          const show = (t) => {
            const x = String(LEFT + (data.duration > 0 ? t / data.duration : 0) * PLOT);
            for (const figure of figures) {
              const chart = data.charts[figure.dataset.chart];
              if (!chart) continue;
              const cross = figure.querySelector(".crosshair");
              cross.setAttribute("x1", x);
              cross.setAttribute("x2", x);
              cross.setAttribute("visibility", "visible");
              const parts = chart.lines.map((line) => {
                const v = valueAt(line, t);
                return line.label + " " + (v === null || v === undefined ? "–" : format(chart.scale, v));
              });
              figure.querySelector(".readout").textContent = clock(t) + " · " + parts.join(" · ");
            }
          };
          const hide = () => {
            for (const figure of figures) {
              figure.querySelector(".crosshair").setAttribute("visibility", "hidden");
              figure.querySelector(".readout").textContent = "";
            }
          };
          for (const figure of figures) {
            const svg = figure.querySelector("svg.plot");
            svg.addEventListener("mousemove", (event) => {
              const box = svg.getBoundingClientRect();
              const x = ((event.clientX - box.left) * WIDTH) / box.width;
              show(Math.min(Math.max((x - LEFT) / PLOT, 0), 1) * data.duration);
            });
            svg.addEventListener("mouseleave", hide);
          }
          document.documentElement.dataset.ready = "true";
        })();
        """#
}
