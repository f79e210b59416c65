-- Shadow promote: when a pipeline's p99 leaves plenty of room under its
-- timeout, try a tighter timeout as a shadow trial next to the live one. The
-- trial promotes it once the shadow held the criteria (would-be timeouts and
-- errors within tolerance of live) through its whole window, watches live
-- afterwards and rolls back on a regression. An aborted or rolled-back try
-- is not repeated for an hour.
local HEADROOM = 3          -- propose p99 × 3 ...
local MIN_TIMEOUT = 0.05    -- ... but never under 50 ms
local ROOM = 0.5            -- only when that is at most half the current timeout
local MIN_CALLS = 1000      -- calls in the 15m window before p99 is trusted
local RETRY_AFTER = 3600    -- seconds before a failed try is repeated

return {
  name = "shadow-promote",
  interval = "30s",
  evaluate = function(state, memory)
    memory.failed_at = memory.failed_at or {}
    for name, pipeline in pairs(state.pipelines) do
      local knob_name = name .. ".timeout.duration"
      local knob = state.params[knob_name]
      local trial_name = name .. "-tighter-timeout"
      local trial = state.trials[trial_name]
      local status = trial and trial.status
      if status == "aborted" or status == "rolled_back" then
        memory.failed_at[name] = memory.failed_at[name] or state.now
      end
      local busy = status == "running" or status == "holding" or status == "watching"
      local cooling = memory.failed_at[name] and state.now - memory.failed_at[name] < RETRY_AFTER
      local w = pipeline.windows["15m"]
      if knob and not busy and not cooling and w.calls >= MIN_CALLS and w.p99 > 0 then
        local proposal = math.max(MIN_TIMEOUT, w.p99 * HEADROOM)
        if proposal <= knob.value * ROOM then
          memory.failed_at[name] = nil
          sentinel.trial({
            name = trial_name,
            params = { [knob_name] = proposal },
            window = "10m",
            interval = "1m",        -- judged on 1-minute windows: a p99 from 10 s of traffic is noise
            min_samples = 500,
            watch = "5m",
            criteria = {
              timeout_rate = { absolute = 0.005, relative = 0.1 },
              p99 = { absolute = 0.01, relative = 0.2 },
            },
          }, { reason = string.format("p99 %.0fms leaves room under the %.0fms timeout: try %.0fms",
                 1000 * w.p99, 1000 * knob.value, 1000 * proposal),
               evidence = { p99 = w.p99, calls = w.calls, timeout = knob.value, proposal = proposal } })
        end
      end
    end
  end,
}
