-- Ratchet-up (AIMD with probes): raise a rate limit step by step while the
-- service's SLOs hold; on a breach cut it multiplicatively and halve the step.
-- The lowest level that breached is remembered as a ceiling, and the limit
-- settles at a margin under it. A ceiling is not forever: capacity grows too
-- (new instances, a faster release). After PROBE_EVERY seconds settled under
-- it with demand still refused, the rule probes PROBE_ABOVE over the ceiling
-- for PROBE_EVALUATIONS evaluations. If the SLOs hold there, capacity has
-- grown: the ceiling is forgotten and the limit climbs again with a step that
-- grows each healthy evaluation, until the next breach finds the new ceiling.
-- If the probe breaches, the limit goes straight back under the ceiling. The
-- cost is bounded: one short probe, at most 10% over the known limit, every
-- five minutes while the limit holds demand back.
--
-- Steps are fractions of the current limit, so the same rule works for a
-- backend of 20 requests per second and one of 20,000.
local PIPELINE = "api"
local KNOB = PIPELINE .. ".ratelimit.rate"
local P99_SLO = 0.150        -- seconds
local ERROR_SLO = 0.01       -- backend errors / calls served
local STEP = 0.10            -- the first step: 10% of the limit per healthy evaluation
local MIN_STEP = 0.01        -- halved on each breach, never under 1% (and never under 1 req/s)
local MAX_STEP = 0.50        -- a growing step (after a probe held) stops at 50%
local GROWTH = 1.5           -- after a probe held, the step grows by half each healthy evaluation
local HEADROOM = 0.97        -- settle at 97% of the lowest rate that breached
local DECREASE = 0.7         -- multiplicative decrease on a breach
local FLOOR = 1              -- never limit below this
local COOLDOWN = 20          -- seconds after a cut before judging again (the queue drains, the 10s window clears)
local MIN_CALLS = 20         -- calls served in the 10s window before judging
local RECOVERY = 90          -- seconds after a cut in which a breach that is improving counts as draining
local PROBE_EVERY = 300      -- seconds settled under the ceiling, demand refused, before a probe
local PROBE_ABOVE = 1.05     -- a probe asks 5% more than the ceiling
local PROBE_EVALUATIONS = 2  -- evaluations the probe must hold (20 s) before capacity counts as grown

local function set(value, reason, evidence)
  sentinel.set(KNOB, value, { reason = reason, evidence = evidence })
end

return {
  name = "ratchet-up",
  interval = "10s",
  evaluate = function(state, memory)
    local pipeline = state.pipelines[PIPELINE]
    local knob = state.params[KNOB]
    if not pipeline or not knob then return end
    -- A step kept from an older version of this rule (absolute req/s) is not a fraction: clamp it.
    memory.step = math.min(math.max(memory.step or STEP, MIN_STEP), MAX_STEP)
    memory.calm_after = memory.calm_after or 0

    local w = pipeline.windows["10s"]
    local served = w.calls - w.rejections
    local backend_errors = w.failures - w.rejections
    local evidence = { rate = knob.value, served = served, p99 = w.p99, rejections = w.rejections,
                       backend_error_rate = served > 0 and backend_errors / served or 0, step = memory.step,
                       ceiling = memory.ceiling }
    -- Right after a cut the window still holds the breach: wait until it has cleared.
    if served < MIN_CALLS or state.now < memory.calm_after then return end  -- too little traffic, or cooling down

    local erring = backend_errors / served > ERROR_SLO
    local breached = w.p99 > P99_SLO or erring
    local last_p99 = memory.last_p99
    memory.last_p99 = w.p99
    if breached and not erring and memory.cut_at and state.now - memory.cut_at <= RECOVERY
        and last_p99 and w.p99 < last_p99 then
      -- Slow but not failing, and faster than at the last look: the queue a cut left behind is
      -- draining. Cutting again would throttle what the backend can serve; wait. (Errors are
      -- never waived: a failing backend often gets faster.)
      return
    end
    if breached then
      memory.cut_at = state.now
      local why = string.format("p99 %.0fms, backend errors %.2f%%", 1000 * w.p99, 100 * evidence.backend_error_rate)
      memory.calm_after = state.now + COOLDOWN
      memory.settled_since = nil
      if memory.probe then
        -- The ceiling is still there: back to where the limit was safe. The probe filled the
        -- backend's queue, which drains slowly just under capacity: judge again after two cooldowns.
        memory.probe = nil
        memory.calm_after = state.now + 2 * COOLDOWN
        local target = math.max(FLOOR, math.floor(memory.ceiling * HEADROOM))
        set(target, string.format("probe breached (%s): capacity has not grown; back to %d", why, target), evidence)
        return
      end
      memory.ceiling = math.min(memory.ceiling or math.huge, knob.value)
      memory.step = math.max(memory.step / 2, MIN_STEP)
      memory.growing = false
      local target = math.max(FLOOR, math.floor(knob.value * DECREASE))
      set(target, string.format("SLO breached (%s): cut to %d", why, target), evidence)
      return
    end

    if memory.probe and knob.value < memory.probe_target then
      -- The probe never took effect (a guard or the knob's bound refused it): it proves nothing.
      memory.probe = nil
      memory.settled_since = nil
    end
    if memory.probe then
      memory.probe = memory.probe + 1
      if memory.probe < PROBE_EVALUATIONS then return end
      -- The probe held: the ceiling is out of date. Climb again, faster and faster, until a breach.
      memory.probe = nil
      memory.ceiling = nil
      memory.step = STEP
      memory.growing = true
      evidence.ceiling = nil
    end

    -- Only climb when the limit is what holds traffic back.
    if w.rejections == 0 then memory.settled_since = nil; return end
    local target = knob.value + math.max(1, knob.value * memory.step)
    if memory.ceiling then
      local settle = math.max(FLOOR, math.floor(memory.ceiling * HEADROOM))
      if knob.value >= settle then
        -- Settled just under the lowest breach. Probe above it now and then: capacity may have grown.
        memory.settled_since = memory.settled_since or state.now
        if state.now - memory.settled_since < PROBE_EVERY then return end
        memory.settled_since = nil
        memory.probe = 0
        local probe = math.max(memory.ceiling + 1, math.floor(memory.ceiling * PROBE_ABOVE))
        memory.probe_target = probe
        set(probe, string.format("settled for %ds with demand refused: probe %d, %d%% over the ceiling %d",
          PROBE_EVERY, probe, math.floor(100 * (PROBE_ABOVE - 1) + 0.5), memory.ceiling), evidence)
        return
      end
      -- Under a known ceiling, close at least half the gap to the settling point each time: a
      -- small step after a cut would leave capacity unused for minutes.
      target = math.min(math.max(target, knob.value + (settle - knob.value) / 2), settle)
    end
    target = math.floor(target)
    if target <= knob.value then return end
    if memory.growing then memory.step = math.min(memory.step * GROWTH, MAX_STEP) end
    set(target, string.format("SLOs hold (p99 %.0fms): raise to %d", 1000 * w.p99, target), evidence)
  end,
}
