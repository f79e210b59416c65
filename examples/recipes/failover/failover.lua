-- Multi-region failover: the `edge` pipeline splits traffic between two
-- regions, each reached through its own pipeline (with its own breaker).
-- Fail over when the primary's breaker opens or its error rate is high;
-- keep a small probe share on the primary so its health stays measured;
-- fail back only after the primary stayed healthy for a while (hysteresis),
-- so a flapping region does not drag traffic back and forth.
local EDGE = "edge"
local PRIMARY, SECONDARY = "us_east", "us_west"
local FAIL_OVER_ERRORS = 0.2   -- primary error rate (10s) that triggers failover
local PROBE = 2                -- percent of traffic that keeps probing the primary
local HEALTHY_ERRORS = 0.02    -- primary error rate (1m) that counts as healthy ...
local HEALTHY_FOR = 180        -- ... for this long before failing back
local MIN_CALLS = 20

local PRIMARY_WEIGHT = EDGE .. ".split.primary_weight"
local SECONDARY_WEIGHT = EDGE .. ".split.secondary_weight"

local function route(primary_percent, why)
  sentinel.set(PRIMARY_WEIGHT, primary_percent, why)
  sentinel.set(SECONDARY_WEIGHT, 100 - primary_percent, why)
end

return {
  name = "failover",
  interval = "5s",
  evaluate = function(state, memory)
    local primary = state.pipelines[PRIMARY]
    if not primary then return end
    local w = primary.windows["10s"]
    local breaker = primary.breaker and primary.breaker.state or "closed"
    local evidence = { breaker = breaker, calls = w.calls, error_rate = w.error_rate }

    if not memory.failed_over then
      local failing = breaker == "open" or (w.calls >= MIN_CALLS and w.error_rate > FAIL_OVER_ERRORS)
      if failing then
        memory.failed_over = true
        memory.healthy_since = nil
        route(PROBE, { reason = string.format("primary failing (breaker %s, errors %.1f%%): fail over to %s",
          breaker, 100 * w.error_rate, SECONDARY), evidence = evidence })
        sentinel.alert("critical", "failed over to " .. SECONDARY, evidence)
      end
      return
    end

    -- Failed over: the probe share keeps the primary's windows and breaker honest.
    -- Judged over a minute: the probe's few calls make a 10s window jumpy. On low
    -- traffic (2 % of 10 req/s is 12 calls a minute) over five minutes instead,
    -- which still hold the failure for a while: failing back takes longer, but it comes.
    local window = primary.windows["1m"]
    if window.calls < MIN_CALLS then window = primary.windows["5m"] end
    evidence.error_rate_judged = window.error_rate
    evidence.calls_judged = window.calls
    local healthy = breaker == "closed" and window.calls >= MIN_CALLS and window.error_rate <= HEALTHY_ERRORS
    if not healthy then
      memory.healthy_since = nil
      return
    end
    memory.healthy_since = memory.healthy_since or state.now
    if state.now - memory.healthy_since >= HEALTHY_FOR then
      memory.failed_over = false
      route(100, { reason = string.format("primary healthy for %ds: fail back", HEALTHY_FOR), evidence = evidence })
      sentinel.alert("info", "failed back to " .. PRIMARY, evidence)
    end
  end,
}
