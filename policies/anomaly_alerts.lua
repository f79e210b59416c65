-- Anomaly alerts: alert when a pipeline's error rate or p99 jumps against
-- its own recent baseline (1m against 15m). Changes nothing; one alert per
-- pipeline and kind every 5 minutes at most.
local ERROR_JUMP = 0.1    -- 10 points more errors than the baseline
local P99_FACTOR = 2      -- p99 twice the baseline
local MIN_CALLS = 30

return {
  name = "anomaly-alerts",
  interval = "10s",
  evaluate = function(state, memory)
    for name, pipeline in pairs(state.pipelines) do
      local now, base = pipeline.windows["1m"], pipeline.windows["15m"]
      if now.calls >= MIN_CALLS and base.calls >= now.calls then
        if now.error_rate - base.error_rate > ERROR_JUMP and sentinel.cooldown(name .. ":errors", "5m") then
          sentinel.alert("warning", name .. ": error rate jumped", {
            error_rate = now.error_rate, baseline = base.error_rate, window = "1m", baseline_window = "15m" })
        end
        if base.p99 > 0 and now.p99 > base.p99 * P99_FACTOR and sentinel.cooldown(name .. ":p99", "5m") then
          sentinel.alert("warning", name .. ": p99 jumped", {
            p99 = now.p99, baseline = base.p99, window = "1m", baseline_window = "15m" })
        end
      end
    end
  end,
}
