-- A Flagger-default canary analysis written to Sentinel's Lua API: the
-- baseline the decision matrix (matrix.py, docs/decisions.md) measures the
-- canary recipe against. Flagger's defaults: an analysis every minute on the
-- canary alone, request success rate >= 99 % and request duration p99 <=
-- 500 ms over that minute, traffic moved in steps of 10 % up to 50 %, then
-- promoted; 5 failed checks (counted over the whole release) roll back.
local PIPELINE = "checkout"
local CANARY = PIPELINE .. ".split.canary_weight"
local STABLE = PIPELINE .. ".split.stable_weight"
local STEP_WEIGHT, MAX_WEIGHT, THRESHOLD = 10, 50, 5
local MIN_SUCCESS_RATE, MAX_P99 = 0.99, 0.500

local function route(weight, why, evidence)
  sentinel.set(CANARY, weight, { reason = why, evidence = evidence })
  sentinel.set(STABLE, 100 - weight, why)
end

return {
  name = "flagger",
  interval = "1m",
  evaluate = function(state, memory)
    if memory.done then return end
    local w = state.pipelines[PIPELINE].variants.canary.windows["1m"]
    local weight = sentinel.get(CANARY)
    local evidence = { calls = w.calls, success_rate = 1 - w.error_rate, p99 = w.p99, failed_checks = memory.failed or 0 }
    if weight > 0 then
      if w.calls == 0 then return end  -- no data: Flagger waits
      if 1 - w.error_rate < MIN_SUCCESS_RATE or w.p99 > MAX_P99 then
        memory.failed = (memory.failed or 0) + 1
        evidence.failed_checks = memory.failed
        if memory.failed >= THRESHOLD then
          memory.done = true
          sentinel.decision{ action = "rollback", subject = "checkout.canary", reason = "failed checks", evidence = evidence }
          route(0, "rollback: " .. memory.failed .. " failed checks", evidence)
        end
        return
      end
    end
    if weight >= MAX_WEIGHT then
      memory.done = true
      sentinel.decision{ action = "promote", subject = "checkout.canary", evidence = evidence }
      route(100, "promote", evidence)
      return
    end
    route(math.min(weight + STEP_WEIGHT, MAX_WEIGHT), "advance", evidence)
  end,
}
