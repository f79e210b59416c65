-- Blue/green: send green a small smoke share; once green passed the smoke
-- window (enough calls, errors and p99 within tolerance of blue's, judged by
-- sentinel.compare at 99.9% confidence), switch all traffic to green at once.
-- After the switch, watch green against the baseline blue had: on failure
-- switch everything back to blue at once.
--
-- With REQUIRE_APPROVAL, the switch waits for a person: once green passed its
-- smoke window the rule opens the approval gate APPROVAL_GATE and keeps green
-- at its smoke share (still smoke-testing it) until an operator answers
-- (`sentinel approve shop-switch`); a denial sends green's share back to blue
-- and raises a warning, as the canary's does. A failed smoke test withdraws
-- the question, and a new release closes any gate left from an earlier one.
local REQUIRE_APPROVAL = false
local PIPELINE = "shop"
local SMOKE_SHARE = 2          -- percent of traffic green gets during the smoke window
local SMOKE_WINDOW = 180       -- seconds of smoke before the switch
local MIN_CALLS = 300          -- green calls before its smoke result counts
local ERROR_MARGIN = 0.01      -- green may have 1 point more errors than blue
local P99_MARGIN = 0.25        -- ... and a p99 25% higher
local WATCH_MIN_CALLS = 100    -- calls in the 10s window before a post-switch verdict
local SMOKE = {                -- what the smoke test judges, beyond noise at 99.9% confidence
  error_rate = { absolute = ERROR_MARGIN, relative = 0 }, rejection_rate = false, timeout_rate = false,
  p99 = { absolute = 0, relative = P99_MARGIN }, confidence = 0.999,
}

local BLUE = PIPELINE .. ".split.blue_weight"
local GREEN = PIPELINE .. ".split.green_weight"
local APPROVAL_GATE = PIPELINE .. "-switch"

-- The fields a verdict rests on, as a plain table (state views are read-only and stay in the sandbox).
local function summary(w)
  return { calls = w.calls, error_rate = w.error_rate, p99 = w.p99 }
end

local function route(green_percent, why)
  sentinel.set(GREEN, green_percent, why)
  sentinel.set(BLUE, 100 - green_percent, why)
end

local function worse(candidate, baseline, min_calls)
  if candidate.calls < min_calls then return nil end
  if candidate.error_rate > baseline.error_rate + ERROR_MARGIN then
    return string.format("errors %.2f%% vs %.2f%%", 100 * candidate.error_rate, 100 * baseline.error_rate)
  end
  if candidate.p99 > baseline.p99 * (1 + P99_MARGIN) then
    return string.format("p99 %.0fms vs %.0fms", 1000 * candidate.p99, 1000 * baseline.p99)
  end
  return false
end

-- Who answered the gate and why, for the reason of what the answer led to.
local function answered(status, gate)
  local text = "approval " .. APPROVAL_GATE .. " " .. status .. " by " .. (gate.answered_by or "?")
  if gate.reason then text = text .. " (" .. gate.reason .. ")" end
  return text
end

return {
  name = "blue-green",
  interval = "5s",
  evaluate = function(state, memory)
    -- The option was turned off (a reload) while a person was asked: withdraw the question and go on without it.
    if memory.waiting and not REQUIRE_APPROVAL then
      memory.waiting = nil
      sentinel.approval_reset(APPROVAL_GATE)
    end
    local pipeline = state.pipelines[PIPELINE]
    if not pipeline then return end
    local blue, green = pipeline.variants.blue.windows, pipeline.variants.green.windows
    memory.phase = memory.phase or "idle"

    if memory.phase == "idle" then
      -- A new release: an answer left from an earlier one (gates survive restarts) must not skip the person.
      sentinel.approval_reset(APPROVAL_GATE)
      memory.phase = "smoke"
      memory.since = state.now
      route(SMOKE_SHARE, "smoke test: green gets " .. SMOKE_SHARE .. "%")
    elseif memory.phase == "smoke" then
      local verdict, judged = sentinel.compare{ pipeline = PIPELINE, candidate = "green", reference = "blue",
                                                window = "5m", min_samples = MIN_CALLS, criteria = SMOKE }
      local evidence = { green = summary(green["5m"]), blue = summary(blue["5m"]), violated = judged.violated }
      if verdict == "violation" then
        memory.phase = "failed"
        local detail = string.format("%s (errors %.2f%% vs %.2f%%, p99 %.0fms vs %.0fms)", judged.violated,
          100 * green["5m"].error_rate, 100 * blue["5m"].error_rate, 1000 * green["5m"].p99, 1000 * blue["5m"].p99)
        route(0, { reason = "green failed its smoke test: " .. detail, evidence = evidence })
        -- A person asked to approve the switch has nothing left to answer. The gate is closed
        -- whether or not this memory asked (gates outlive memory; closing a closed one does nothing).
        memory.waiting = nil
        sentinel.approval_reset(APPROVAL_GATE)
      elseif memory.waiting or (verdict == "pass" and state.now - memory.since >= SMOKE_WINDOW) then
        local why = "green passed its smoke window"
        if REQUIRE_APPROVAL then
          local status, gate = sentinel.approval(APPROVAL_GATE, { message = string.format(
            "green passed its smoke window (errors %.2f%% vs %.2f%%, p99 %.0fms vs %.0fms): approve the switch",
            100 * green["5m"].error_rate, 100 * blue["5m"].error_rate, 1000 * green["5m"].p99, 1000 * blue["5m"].p99) })
          if not memory.waiting then
            memory.waiting = true
            sentinel.alert("info", "blue/green: green passed its smoke window; waiting for approval " .. APPROVAL_GATE, evidence)
          end
          if status == "pending" then return end  -- hold: green keeps its smoke share, asked and alerted once
          memory.waiting = nil
          sentinel.approval_reset(APPROVAL_GATE)  -- the next release asks again
          evidence.approval = { gate = APPROVAL_GATE, answered_by = gate.answered_by, reason = gate.reason }
          if status == "denied" then
            memory.phase = "denied"
            route(0, { reason = answered(status, gate) .. ": blue keeps all traffic", evidence = evidence })
            sentinel.alert("warning", "blue/green: green not switched: " .. answered(status, gate), evidence)
            return
          end
          why = answered(status, gate)
        end
        memory.phase = "green"
        -- The baseline green must keep up with after the switch: blue as it was.
        memory.baseline = { error_rate = blue["5m"].error_rate, p99 = blue["5m"].p99 }
        route(100, { reason = why .. ": switch", evidence = evidence })
      end
    elseif memory.phase == "green" then
      local verdict = worse(green["10s"], memory.baseline, WATCH_MIN_CALLS)
      if verdict then
        memory.phase = "rolled_back"
        route(0, { reason = "green failed after the switch (" .. verdict .. "): back to blue",
                   evidence = { green = summary(green["10s"]), baseline = memory.baseline } })
        sentinel.alert("critical", "blue/green: switched back to blue: " .. verdict)
        memory.waiting = nil
        sentinel.approval_reset(APPROVAL_GATE)  -- closed at the switch already; a no-op unless something reopened it
      end
    end
  end,
}
