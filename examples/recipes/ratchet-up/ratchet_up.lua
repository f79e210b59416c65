-- Ratchet-up (AIMD): raise a rate limit step by step while the service's SLOs
-- hold; on a breach cut it multiplicatively and halve the step. The lowest
-- level that ever breached is remembered, and the limit settles at a margin
-- under it instead of probing it again and again.
local PIPELINE = "api"
local KNOB = PIPELINE .. ".ratelimit.rate"
local P99_SLO = 0.150        -- seconds
local ERROR_SLO = 0.01       -- backend errors / calls served
local FIRST_STEP = 40        -- requests per second added per healthy evaluation
local MIN_STEP = 2           -- the step never gets smaller than this
local HEADROOM = 0.95        -- settle at 95% of the lowest rate that breached
local DECREASE = 0.7         -- multiplicative decrease on a breach
local FLOOR = 10             -- never limit below this
local COOLDOWN = 20          -- seconds after a cut before judging again (the queue drains, the 10s window clears)

return {
  name = "ratchet-up",
  interval = "10s",
  evaluate = function(state, memory)
    local pipeline = state.pipelines[PIPELINE]
    local knob = state.params[KNOB]
    if not pipeline or not knob then return end
    memory.step = memory.step or FIRST_STEP
    memory.calm_after = memory.calm_after or 0

    local w = pipeline.windows["10s"]
    local served = w.calls - w.rejections
    local backend_errors = w.failures - w.rejections
    local evidence = { rate = knob.value, served = served, p99 = w.p99, rejections = w.rejections,
                       backend_error_rate = served > 0 and backend_errors / served or 0, step = memory.step }
    -- Right after a cut the window still holds the breach: wait until it has cleared.
    if served < 50 or state.now < memory.calm_after then return end  -- too little traffic, or cooling down

    if w.p99 > P99_SLO or backend_errors / served > ERROR_SLO then
      memory.ceiling = math.min(memory.ceiling or math.huge, knob.value)
      memory.step = math.max(memory.step / 2, MIN_STEP)
      memory.calm_after = state.now + COOLDOWN
      local target = math.max(FLOOR, math.floor(knob.value * DECREASE))
      sentinel.set(KNOB, target, { reason = string.format("SLO breached (p99 %.0fms, backend errors %.2f%%): cut to %d",
        1000 * w.p99, 100 * evidence.backend_error_rate, target), evidence = evidence })
      return
    end

    -- Only climb when the limit is what holds traffic back.
    if w.rejections == 0 then return end
    local target = knob.value + memory.step
    if memory.ceiling then target = math.min(target, math.floor(memory.ceiling * HEADROOM)) end
    if target <= knob.value then return end  -- settled just under the lowest breach
    sentinel.set(KNOB, math.floor(target), { reason = string.format("SLOs hold (p99 %.0fms): raise by %g",
      1000 * w.p99, memory.step), evidence = evidence })
  end,
}
