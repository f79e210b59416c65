-- Retry tuning: retrying a dependency that is failing makes it worse.
-- When a pipeline's error rate stays high, cut retries to one attempt and
-- lengthen the backoff; when it has been calm for a while, restore what the
-- pipeline had before.
local HIGH = 0.3          -- error rate that counts as failing (1m window)
local CALM = 0.05         -- error rate that counts as calm
local MIN_CALLS = 50      -- fewer calls than this prove nothing
local HOLD = 3            -- evaluations in a row before acting (hysteresis)

return {
  name = "retry-tuning",
  interval = "5s",
  evaluate = function(state, memory)
    memory.saved = memory.saved or {}
    for name, pipeline in pairs(state.pipelines) do
      local attempts = state.params[name .. ".retry.max_attempts"]
      local delay = state.params[name .. ".retry.base_delay"]
      if attempts and delay then
        local w = pipeline.windows["1m"]
        local failing = w.calls >= MIN_CALLS and w.error_rate > HIGH
        local calm = w.error_rate < CALM
        local saved = memory.saved[name]
        if sentinel.held(name .. ":failing", failing, HOLD) and not saved then
          memory.saved[name] = { attempts = attempts.value, delay = delay.value }
          local why = { reason = "error rate high: retries would pile on", evidence = {
            error_rate = w.error_rate, calls = w.calls, threshold = HIGH, window = "1m" } }
          sentinel.set(name .. ".retry.max_attempts", 1, why)
          sentinel.set(name .. ".retry.base_delay", math.min(delay.value * 4, delay.max), why)
        elseif saved and sentinel.held(name .. ":calm", calm, HOLD * 2) then
          local why = { reason = "calm again: retries restored", evidence = {
            error_rate = w.error_rate, calls = w.calls, threshold = CALM } }
          sentinel.set(name .. ".retry.max_attempts", saved.attempts, why)
          sentinel.set(name .. ".retry.base_delay", saved.delay, why)
          memory.saved[name] = nil
        end
      end
    end
  end,
}
