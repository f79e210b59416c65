-- Blue/green: send green a small smoke share and mark when the smoke test
-- began; judge green against blue on every call since the mark with the
-- sequential judge (sentinel.compare, mode "sequential"), whose chance of a
-- false verdict holds however often it looks. Green fails the smoke test at
-- the first violation; once its errors passed (no more than 1 point above
-- blue's, proved at the stated confidence), its p99 is not found worse, and
-- the minimum smoke time is over, switch all traffic to green at once.
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
local SMOKE_SHARE = 2          -- percent of traffic green gets during the smoke window ...
local SMOKE_CALLS = 3000       -- ... unless that gives green fewer calls than this by half of SMOKE_MAX:
local SHARES = { 5, 10, 25 }   -- then the smallest of these that does (or the largest), from 30 s in
local SMOKE_WINDOW = 180       -- minimum seconds of smoke before the switch
local SMOKE_MAX = 1800         -- a smoke test still undecided by then sends green back to blue
local MIN_CALLS = 300          -- green calls before its errors can pass
local ERROR_MARGIN = 0.01      -- green may have 1 point more errors than blue
local P99_MARGIN = 0.25        -- ... and a p99 25% higher
local WATCH_MIN_CALLS = 1000   -- calls a post-switch verdict needs: the shortest window (10s, 1m, 5m) with that many
local SMOKE_BUDGET = 0.01      -- chance of any false verdict over the whole smoke test, every look included
-- Two sequential tests share the budget (errors, latency): each at 1 - 0.01 / 2 = 99.5%.
local SMOKE_CONFIDENCE = 1 - SMOKE_BUDGET / 2
local ERRORS = { error_rate = { absolute = ERROR_MARGIN, relative = 0 }, rejection_rate = false, timeout_rate = false,
                 p99 = false, latency_shift = false, confidence = SMOKE_CONFIDENCE }
local LATENCY = { error_rate = false, rejection_rate = false, timeout_rate = false,
                  p99 = { relative = P99_MARGIN }, latency_shift = false, confidence = SMOKE_CONFIDENCE }

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

-- Both sequential tests on everything since the smoke mark: a violation of either fails green;
-- errors must pass, and latency must not be found worse (a healthy p99 takes thousands of calls to prove).
local function smoke_verdict()
  local compare = { pipeline = PIPELINE, candidate = "green", reference = "blue", since = "smoke", mode = "sequential" }
  compare.criteria, compare.min_samples = ERRORS, MIN_CALLS
  local errors, errors_evidence = sentinel.compare(compare)
  compare.criteria, compare.min_samples = LATENCY, nil
  local latency, latency_evidence = sentinel.compare(compare)
  local judged = { errors = errors, latency = latency, calls = errors_evidence.candidate_calls,
                   error_difference_upper = errors_evidence["error_rate.difference_upper"],
                   error_violation_p = errors_evidence["error_rate.violation_p_value"],
                   p99_violation_p = latency_evidence["p99.violation_p_value"] }
  if errors == "violation" or latency == "violation" then
    judged.violated = errors == "violation" and "error_rate" or "p99"
    return "violation", judged
  end
  if errors == "pass" then return "pass", judged end
  return "continue", judged
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

    if memory.phase == "idle" and (sentinel.get(GREEN) or 0) >= 100 then
      -- Memory is gone (a restart) but green takes all traffic: it was switched. Blue's baseline
      -- went with the memory, so the watch after the switch is not resumed.
      memory.phase = "switched"
      sentinel.log("info", "blue/green: green takes all traffic (switched before a restart): nothing left to do")
    elseif memory.phase == "idle" then
      -- A new release, or a restart during one (green at its smoke share): the smoke test starts over.
      -- An answer left from an earlier release (gates survive restarts) must not skip the person.
      sentinel.approval_reset(APPROVAL_GATE)
      memory.phase = "smoke"
      memory.since = sentinel.mark(PIPELINE, "smoke")
      memory.share = nil
      route(SMOKE_SHARE, "smoke test: green gets " .. SMOKE_SHARE .. "%")
    elseif memory.phase == "smoke" and not sentinel.since(PIPELINE, "smoke") then
      -- The mark is gone (the pipeline was registered again, its knobs with it): the smoke
      -- test, its share and its minimum time start over.
      memory.since = sentinel.mark(PIPELINE, "smoke")
      memory.share = nil
      route(SMOKE_SHARE, "the smoke mark was lost: the smoke test starts again, green gets " .. SMOKE_SHARE .. "%")
    elseif memory.phase == "smoke" and not memory.share and state.now - memory.since >= 30 then
      -- Low traffic: size green's share so the smoke test can decide in time (once; the
      -- sequential test judges all calls since the mark, whatever the share was).
      local seen = sentinel.since(PIPELINE, "smoke")
      local rate = seen.calls / math.max(seen.seconds, 1)
      local share = SMOKE_SHARE
      if rate * SMOKE_SHARE / 100 * SMOKE_MAX / 2 < SMOKE_CALLS then
        for _, candidate in ipairs(SHARES) do
          share = candidate
          if rate * candidate / 100 * SMOKE_MAX / 2 >= SMOKE_CALLS then break end
        end
        route(share, string.format("smoke test: %.1f req/s gives green too few calls at %d%%: green gets %d%%",
          rate, SMOKE_SHARE, share))
      end
      memory.share = share
    elseif memory.phase == "smoke" then
      local verdict, judged = smoke_verdict()
      -- Everything since the smoke test began, as the judge saw it.
      local smoke = sentinel.since(PIPELINE, "smoke")
      local smoke_green, smoke_blue = smoke.variants.green, smoke.variants.blue
      local numbers = string.format("errors %.2f%% vs %.2f%%, p99 %.0fms vs %.0fms over %d green calls",
        100 * smoke_green.error_rate, 100 * smoke_blue.error_rate, 1000 * smoke_green.p99, 1000 * smoke_blue.p99, smoke_green.calls)
      local evidence = { green = summary(smoke_green), blue = summary(smoke_blue), smoke = judged, violated = judged.violated }
      if verdict == "violation" then
        memory.phase = "failed"
        local detail = judged.violated .. " (" .. numbers .. ")"
        route(0, { reason = "green failed its smoke test: " .. detail, evidence = evidence })
        -- A person asked to approve the switch has nothing left to answer. The gate is closed
        -- whether or not this memory asked (gates outlive memory; closing a closed one does nothing).
        memory.waiting = nil
        sentinel.approval_reset(APPROVAL_GATE)
      elseif verdict == "continue" and state.now - memory.since >= SMOKE_MAX then
        -- Green is between the margins (or gets too few calls): more of the same will not decide soon.
        memory.phase = "undecided"
        local why = "green's smoke test is undecided after " .. SMOKE_MAX .. " s (" .. numbers .. ")"
        route(0, { reason = why .. ": blue keeps all traffic", evidence = evidence })
        sentinel.alert("warning", "blue/green: " .. why, evidence)
      elseif memory.waiting or (verdict == "pass" and state.now - memory.since >= SMOKE_WINDOW) then
        local why = "green passed its smoke window"
        if REQUIRE_APPROVAL then
          local status, gate = sentinel.approval(APPROVAL_GATE, {
            message = "green passed its smoke window (" .. numbers .. "): approve the switch" })
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
      -- On low traffic a 10 s window holds a handful of calls, and 3 errors in 200 look like 1.5 %.
      local window = green["10s"]
      if window.calls < WATCH_MIN_CALLS then window = green["1m"] end
      if window.calls < WATCH_MIN_CALLS then window = green["5m"] end
      local verdict = worse(window, memory.baseline, WATCH_MIN_CALLS)
      if verdict then
        memory.phase = "rolled_back"
        route(0, { reason = "green failed after the switch (" .. verdict .. "): back to blue",
                   evidence = { green = summary(window), baseline = memory.baseline } })
        sentinel.alert("critical", "blue/green: switched back to blue: " .. verdict)
        memory.waiting = nil
        sentinel.approval_reset(APPROVAL_GATE)  -- closed at the switch already; a no-op unless something reopened it
      end
    end
  end,
}
