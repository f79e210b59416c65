-- Canary release: move traffic to the canary in steps (1, 5, 10, 25, 50, 100 %)
-- while it stays as good as stable; hold while the data cannot tell; roll back
-- to 0 at once on a regression; promote at the end.
--
-- Errors are judged with a one-sided two-proportion z-test against a margin:
-- the canary advances only when, at 99% confidence, its error rate is no more
-- than ERROR_MARGIN above stable's; it is rolled back when, at 99% confidence,
-- it is more than ERROR_MARGIN above. In between the data cannot tell: hold.
-- Latency is judged by sentinel.compare, the shadow trials' judge: a p99 more
-- than P99_MARGIN above stable's is a regression only when the canary's tail
-- is heavier than stable's at 99.9% confidence (a tail test on the latency
-- histograms), so a p99 that is high by chance on few calls does not roll back.
-- 99.9% rather than 99%: the rule looks every 10 s on two windows, about a
-- hundred looks per release, and each look is a chance of a false rollback.
--
-- With REQUIRE_APPROVAL, the last step (to 100%) waits for a person: the rule
-- opens the approval gate APPROVAL_GATE once the canary is ready for it and
-- holds where it is until an operator answers (`sentinel approve
-- checkout-canary`); a regression meanwhile still rolls back, and a denial
-- rolls back too. Every rollback closes the gate, and a new release closes
-- any gate left from an earlier one, so an old answer never skips the person.
local REQUIRE_APPROVAL = false
local PIPELINE = "checkout"
local STEPS = { 1, 5, 10, 25, 50, 100 }
local HOLD = 120            -- seconds at a step before the next one
local ERROR_MARGIN = 0.01   -- the canary may have 1 point more errors than stable
local P99_MARGIN = 0.2      -- ... and a p99 20% higher
local Z = 2.326             -- one-sided 99%
local MIN_CALLS = 200       -- canary calls before errors are judged
local MIN_P99_CALLS = 1000  -- calls on each side before latency is judged
local LATENCY = {           -- what sentinel.compare judges: latency only, errors are judged above
  error_rate = false, rejection_rate = false, timeout_rate = false,
  p99 = { absolute = 0, relative = P99_MARGIN }, latency_shift = 0.05, confidence = 0.999,
}

local CANARY = PIPELINE .. ".split.canary_weight"
local STABLE = PIPELINE .. ".split.stable_weight"
local APPROVAL_GATE = PIPELINE .. "-canary"
local CANARY_SIDE = PIPELINE .. ".canary"   -- what the rule's decisions are about

-- How far the canary's error rate is above stable's beyond the margin, in standard errors.
local function error_z(canary, stable, margin)
  local pc, ps = canary.error_rate, stable.error_rate
  local variance = pc * (1 - pc) / canary.calls + ps * (1 - ps) / math.max(stable.calls, 1)
  local se = math.sqrt(math.max(variance, 1e-12))
  return (pc - ps - margin) / se, se
end

local function judge(variants, window)
  local canary, stable = variants.canary.windows[window], variants.stable.windows[window]
  local latency, latency_evidence = sentinel.compare{ pipeline = PIPELINE, candidate = "canary", reference = "stable",
                                                      window = window, min_samples = MIN_P99_CALLS, criteria = LATENCY }
  local evidence = {
    window = window, canary_calls = canary.calls, stable_calls = stable.calls,
    canary_error_rate = canary.error_rate, stable_error_rate = stable.error_rate,
    canary_p99 = canary.p99, stable_p99 = stable.p99,
  }
  if canary.calls < MIN_CALLS then return "inconclusive", evidence end
  local z, se = error_z(canary, stable, ERROR_MARGIN)
  evidence.z = z
  if z > Z then
    return "regression", evidence, string.format("errors %.2f%% vs stable %.2f%%", 100 * canary.error_rate, 100 * stable.error_rate)
  end
  if latency == "violation" then
    evidence.latency_violated = latency_evidence.violated
    evidence.p99_tail_p_value = latency_evidence["p99.tail_p_value"]
    evidence.latency_shift = latency_evidence["latency_shift.superiority"]
    return "regression", evidence, string.format("p99 %.0fms vs stable %.0fms (%s)", 1000 * canary.p99,
                                                 1000 * stable.p99, latency_evidence.violated)
  end
  local p99_judged = latency == "pass"
  -- Healthy only when the upper confidence bound is within the margin and p99 was judged.
  local upper = canary.error_rate - stable.error_rate + Z * se
  if upper <= ERROR_MARGIN and p99_judged then
    return "healthy", evidence, string.format("errors %.2f%% vs %.2f%%, p99 %.0fms vs %.0fms",
      100 * canary.error_rate, 100 * stable.error_rate, 1000 * canary.p99, 1000 * stable.p99)
  end
  return "inconclusive", evidence
end

local function set_weight(percent, why)
  sentinel.set(CANARY, percent, why)
  sentinel.set(STABLE, 100 - percent, why)
end

-- Who answered the gate and why, for the reason of what the answer led to.
local function answered(gate)
  local text = "approval " .. APPROVAL_GATE .. " " .. gate.status .. " by " .. (gate.answered_by or "?")
  if gate.reason then text = text .. " (" .. gate.reason .. ")" end
  return text
end

-- Waits at the step before the last for a person's answer. Returns the gate
-- once answered (and closes it, so that the next release asks again), nil
-- while pending. The gate is opened once and the wait alerted once.
local function await_approval(memory, detail, evidence)
  local status, gate = sentinel.approval(APPROVAL_GATE, { message = string.format(
    "canary at %d%% is healthy (%s): approve the step to 100%%", STEPS[memory.step], detail or "") })
  if not memory.waiting then
    memory.waiting = true
    sentinel.alert("info", "canary at " .. STEPS[memory.step] .. "%: waiting for approval " .. APPROVAL_GATE, evidence)
  end
  if status == "pending" then return nil end
  memory.waiting = nil
  sentinel.approval_reset(APPROVAL_GATE)
  gate.status = status
  return gate
end

return {
  name = "canary",
  interval = "10s",
  evaluate = function(state, memory)
    -- The option was turned off (a reload) while a person was asked: withdraw the question and go on without it.
    if memory.waiting and not REQUIRE_APPROVAL then
      memory.waiting = nil
      sentinel.approval_reset(APPROVAL_GATE)
    end
    local pipeline = state.pipelines[PIPELINE]
    if not pipeline or memory.status == "rolled_back" or memory.status == "promoted" then return end
    memory.step = memory.step or 0
    memory.since = memory.since or state.now

    -- A regression in the last minute or over the last five rolls back at once.
    for _, window in ipairs({ "1m", "5m" }) do
      local verdict, evidence, detail = judge(pipeline.variants, window)
      if verdict == "regression" and memory.step > 0 then
        memory.status = "rolled_back"
        sentinel.decision{ action = "rollback", subject = CANARY_SIDE, verdict = verdict, reason = detail, evidence = evidence }
        set_weight(0, { reason = "regression: " .. detail .. "; rolled back", evidence = evidence })
        sentinel.alert("warning", "canary rolled back: " .. detail, evidence)
        -- A person asked to approve the last step has nothing left to answer. The gate is
        -- closed whether or not this memory asked (gates outlive memory; closing a closed one does nothing).
        memory.waiting = nil
        sentinel.approval_reset(APPROVAL_GATE)
        return
      end
    end

    if memory.step == 0 then
      -- A new release: an answer left from an earlier one (gates survive restarts) must not skip the person.
      sentinel.approval_reset(APPROVAL_GATE)
      memory.step = 1
      memory.since = state.now
      sentinel.decision{ action = "advance", subject = CANARY_SIDE, reason = "canary starts at " .. STEPS[1] .. "%" }
      set_weight(STEPS[1], "canary starts at " .. STEPS[1] .. "%")
      return
    end
    if state.now - memory.since < HOLD then return end

    local verdict, evidence, detail = judge(pipeline.variants, "5m")
    -- Inconclusive: hold at this step (unless a person was asked already: they decide).
    if verdict ~= "healthy" and not memory.waiting then return end
    if memory.step == #STEPS then
      memory.status = "promoted"
      sentinel.decision{ action = "promote", subject = CANARY_SIDE, verdict = verdict, reason = "it takes all traffic", evidence = evidence }
      sentinel.alert("info", "canary promoted: it takes all traffic", evidence)
      return
    end
    local why = "healthy (" .. (detail or "") .. ")"
    if REQUIRE_APPROVAL and memory.step == #STEPS - 1 then
      local gate = await_approval(memory, detail, evidence)
      if not gate then return end  -- pending: hold here, asked and alerted once
      evidence.approval = { gate = APPROVAL_GATE, answered_by = gate.answered_by, reason = gate.reason }
      if gate.status == "denied" then
        memory.status = "rolled_back"
        sentinel.decision{ action = "rollback", subject = CANARY_SIDE, verdict = "denied", reason = answered(gate), evidence = evidence }
        set_weight(0, { reason = answered(gate) .. ": rolled back", evidence = evidence })
        sentinel.alert("warning", "canary rolled back: " .. answered(gate), evidence)
        return
      end
      why = answered(gate)
    end
    memory.step = memory.step + 1
    memory.since = state.now
    sentinel.decision{ action = "advance", subject = CANARY_SIDE, verdict = verdict, reason = why .. ": step to " .. STEPS[memory.step] .. "%", evidence = evidence }
    set_weight(STEPS[memory.step], { reason = why .. ": step to " .. STEPS[memory.step] .. "%", evidence = evidence })
  end,
}
