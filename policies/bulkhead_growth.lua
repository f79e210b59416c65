-- Bulkhead growth: when a pipeline's bulkhead is nearly full and latency
-- holds, grow its capacity by a quarter; when latency degrades, shrink it
-- back towards where it started. Capacity never leaves [start / 2, start * 4],
-- where start is the capacity this script first saw (kept in memory, which a
-- reload carries over; after a restart it is the restored value).
local BUSY = 0.8          -- in_use / capacity that counts as nearly full
local P99_SLACK = 1.2     -- p99 may rise 20% over its 15m baseline and still "hold"
local P99_BREACH = 1.5    -- p99 50% over baseline: shrink

return {
  name = "bulkhead-growth",
  interval = "15s",
  evaluate = function(state, memory)
    memory.start = memory.start or {}
    for name, pipeline in pairs(state.pipelines) do
      local bulkhead = pipeline.bulkhead
      local knob = state.params[name .. ".bulkhead.max_concurrent"]
      if bulkhead and knob then
        memory.start[name] = memory.start[name] or knob.value
        local start = memory.start[name]
        local now, base = pipeline.windows["1m"], pipeline.windows["15m"]
        local busy = bulkhead.in_use + bulkhead.queued >= BUSY * bulkhead.capacity
        local baseline = base.p99 > 0 and base.p99 or now.p99
        local evidence = { in_use = bulkhead.in_use, queued = bulkhead.queued, capacity = bulkhead.capacity,
                           p99 = now.p99, baseline_p99 = baseline }
        if now.calls >= 20 and now.p99 > baseline * P99_BREACH and knob.value > math.floor(start / 2) then
          local target = math.max(math.floor(start / 2), math.floor(knob.value * 0.75))
          sentinel.set(name .. ".bulkhead.max_concurrent", target,
            { reason = "latency degraded: shrink", evidence = evidence })
        elseif busy and now.p99 <= baseline * P99_SLACK and knob.value < start * 4
            and sentinel.cooldown(name .. ":grow", "1m") then
          local target = math.min(start * 4, math.ceil(knob.value * 1.25))
          sentinel.set(name .. ".bulkhead.max_concurrent", target,
            { reason = "nearly full and latency holds: grow", evidence = evidence })
        end
      end
    end
  end,
}
