-- Safety valve: under overload, shed load before the backend drowns: cut
-- retries to one attempt and tighten the rate limit to a little under what
-- the backend still manages to serve. Restore both once demand has fallen
-- back under the shed limit (the limiter stopped refusing) and stayed there.
local PIPELINE = "api"
local RETRIES = PIPELINE .. ".retry.max_attempts"
local RATE = PIPELINE .. ".ratelimit.rate"
local OVERLOAD_P99 = 0.5       -- seconds: p99 above this is overload ...
local OVERLOAD_ERRORS = 0.2    -- ... and so is a backend error rate above this
local SHED_TO = 0.9            -- the limit becomes 90% of the successes per second under overload
local CALM_REFUSED = 0.01      -- calm: the limiter refuses under 1% of the calls ...
local CALM_FOR = 120           -- ... for this many seconds

local function overloaded(w)
  local served = w.calls - w.rate_limited
  if served < 20 then return false end
  return w.p99 > OVERLOAD_P99 or (w.failures - w.rate_limited) / served > OVERLOAD_ERRORS
end

return {
  name = "safety-valve",
  interval = "5s",
  evaluate = function(state, memory)
    local pipeline = state.pipelines[PIPELINE]
    if not pipeline then return end
    local w = pipeline.windows["10s"]
    w = { calls = w.calls, failures = w.failures, successes = w.successes, p99 = w.p99, rate_limited = w.rejections }
    local evidence = { calls = w.calls, failures = w.failures, p99 = w.p99, refused = w.rate_limited }

    if not memory.open then
      if overloaded(w) then
        -- Remember what to restore, then shed.
        memory.saved = { retries = state.params[RETRIES].value, rate = state.params[RATE].value }
        memory.open = true
        memory.calm_since = nil
        local limit = math.max(1, math.floor(math.min(memory.saved.rate, w.successes / 10 * SHED_TO)))
        sentinel.set(RETRIES, 1, { reason = "overload: shed retries", evidence = evidence })
        sentinel.set(RATE, limit, { reason = string.format("overload (p99 %.0fms): shed to %d req/s", 1000 * w.p99, limit),
                                   evidence = evidence })
        sentinel.alert("warning", "safety valve opened: shedding load", evidence)
      end
      return
    end

    -- Open: restore once calm has lasted CALM_FOR.
    if overloaded(w) or w.rate_limited > CALM_REFUSED * w.calls then
      memory.calm_since = nil
      return
    end
    memory.calm_since = memory.calm_since or state.now
    if state.now - memory.calm_since >= CALM_FOR then
      sentinel.set(RETRIES, memory.saved.retries, { reason = "calm for " .. CALM_FOR .. "s: restore retries", evidence = evidence })
      sentinel.set(RATE, memory.saved.rate, { reason = "calm for " .. CALM_FOR .. "s: restore the limit", evidence = evidence })
      sentinel.alert("info", "safety valve closed: load restored", evidence)
      memory.open = false
      memory.saved = nil
    end
  end,
}
