import Resilience

extension WindowStats {
    /// The fields scripts see: `calls`, `successes`, `failures`, `error_rate`,
    /// `timeouts`, `rejections`, `p50`, `p90`, `p99`, `max`.
    public var jsonValue: JSONValue {
        [
            "calls": .int(Int64(calls)), "successes": .int(Int64(successes)), "failures": .int(Int64(failures)),
            "error_rate": .double(errorRate), "timeouts": .int(Int64(timeouts)),
            "rejections": .int(Int64(rejections)), "p50": .double(p50), "p90": .double(p90), "p99": .double(p99),
            "max": .double(max),
        ]
    }
}

extension PipelineState {
    /// Every window, shadow window, variant, breaker, bulkhead and knob of the pipeline.
    public var jsonValue: JSONValue {
        func windows(_ stats: (StatisticsWindow) -> WindowStats) -> JSONValue {
            .object(Dictionary(uniqueKeysWithValues: StatisticsWindow.allCases.map { ($0.rawValue, stats($0).jsonValue) }))
        }
        var object: [String: JSONValue] = [
            "windows": windows { window($0) },
            "shadow": ["windows": windows { shadowWindow($0) }],
        ]
        if !variantNames.isEmpty {
            var variants: [String: JSONValue] = [:]
            for variant in variantNames {
                variants[variant] = ["windows": windows { variantWindow(variant, $0) ?? .zero }]
            }
            object["variants"] = .object(variants)
        }
        if let breaker { object["breaker"] = ["state": .string(breaker.state.rawValue)] }
        if let bulkhead {
            object["bulkhead"] = [
                "in_use": .int(Int64(bulkhead.inUse)), "queued": .int(Int64(bulkhead.queued)),
                "capacity": .int(Int64(bulkhead.capacity)),
            ]
        }
        return .object(object)
    }
}

extension SystemState {
    /// The whole snapshot: `now`, `pipelines`, `params`, `trials`, `frozen`.
    public var jsonValue: JSONValue {
        var pipelineValues: [String: JSONValue] = [:]
        var parameterValues: [String: JSONValue] = [:]
        for (name, pipeline) in pipelines {
            pipelineValues[name] = pipeline.jsonValue
            for info in pipeline.parameters {
                var fields: [String: JSONValue] = [
                    "value": .double(info.value), "min": .double(info.minimum), "max": .double(info.maximum),
                ]
                if let shadow = info.shadow { fields["shadow"] = .double(shadow) }
                parameterValues[info.name] = .object(fields)
            }
        }
        return [
            "now": .double(now), "pipelines": .object(pipelineValues), "params": .object(parameterValues),
            "trials": .object(trials), "frozen": .bool(frozen),
        ]
    }
}
