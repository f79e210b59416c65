-- Canary release: move traffic to the canary in steps while it stays as good
-- as stable, roll back at once when it is worse, promote once it was shown as
-- good at the last step. It decides from 10 to 10,000 requests per second
-- (README.md next to this file: what it guarantees, and below which traffic).
--
-- Traffic first: for MEASURE seconds, and until it has MEASURE_CALLS, it
-- counts the pipeline's calls. The first step is the smallest weight of
-- LADDER that gives the canary DETECT_CALLS calls within FIRST_STEP seconds
-- (50 % at most); the later steps follow LADDER.
--
-- Every step is judged on its own calls (a mark when it begins), by the
-- sequential judge (sentinel.compare{ mode = "sequential" }), whose false
-- alarms stay bounded however often the rule looks:
-- * HARM at every step: is the canary worse than stable at all? Errors more
--   than ERROR_HARM above stable's, or more of its calls above (1 + P99_HARM)
--   × stable's p99 than stable has above it. A violation rolls back at once.
-- * FIT at the last step: is the canary within the tolerances? Errors at most
--   ERROR_PASS above stable's, fewer calls above (1 + P99_PASS) × stable's
--   p99 than stable has above it. A pass after BAKE seconds promotes (to 100 %)
--   unless the latest calls look worse (hold_reason). FIT only promotes: what
--   is beyond its tolerances is beyond HARM's, which rolls it back sooner.
-- A step before the last advances once it had DETECT_CALLS canary calls and
-- MIN_STEP seconds without a violation: by then HARM has caught the
-- regressions the README promises, 99 times in 100. The last step, which
-- lasts longer, is also cut into overlapping segments of SEGMENT_CALLS
-- canary calls, HARM judging the latest two too: a regression that starts
-- late in it is not diluted by all the calls before.
--
-- The false-alarm budgets (Bonferroni: no independence assumed):
-- FALSE_ROLLBACK, the chance of rolling back a canary no worse than HARM's
-- margins in one release, is split evenly over HARM's tests (two per step of
-- the release, two for the last step's segments, spent over them);
-- FALSE_PROMOTION, the chance of promoting a canary outside FIT's tolerances,
-- over FIT's two criteria and its restarts on a stale p99 estimate.
--
-- Memory and marks do not survive a restart of the process: after one, the
-- rule reads where the release stood from the weight (100: promoted; between:
-- that step, started over on fresh calls; 0: a new release) (README).
--
-- With REQUIRE_APPROVAL, the step to 100 % waits for a person: when it would
-- promote, the rule opens the approval gate APPROVAL_GATE and holds at the last
-- step until an operator answers (`sentinel approve checkout-canary`); a
-- regression meanwhile still rolls back, and a denial rolls back too. Every
-- rollback closes the gate, and a new release closes any gate left from an
-- earlier one, so an old answer never skips the person.
local REQUIRE_APPROVAL = false
local PIPELINE = "checkout"
local LADDER = { 1, 2, 5, 10, 25, 50 }   -- canary weights (percent) before 100
local FALSE_ROLLBACK = 0.01              -- per release: a canary as good as stable rolled back
local FALSE_PROMOTION = 0.01             -- per release: a canary outside the tolerances promoted
local DETECT_CALLS = 2000                -- canary calls by which a step catches what the README promises
local SEGMENT_CALLS = 6000               -- canary calls per segment of the last step
local MEASURE = 20                       -- seconds of traffic counted before the first step, at least
local MEASURE_CALLS = 100                -- calls it must count, at least, to size the first step
local FIRST_STEP = 240                   -- seconds the first step should need for DETECT_CALLS
local MIN_STEP = 60                      -- seconds at every step, at least
local BAKE = 300                         -- seconds at the last step before 100 %, at least
local ERROR_HARM = { absolute = 0.0025, relative = 0.1 }  -- errors more than ¼ point + 10 % above stable's: worse
local P99_HARM = 0.1                     -- the tail above 1.1 × stable's p99 heavier than stable's: worse
local ERROR_PASS = { absolute = 0.01, relative = 0.5 }   -- errors within 1 point + 50 % of stable's: as good
local P99_PASS = 0.5                     -- the tail above 1.5 × stable's p99 lighter than stable's: as good
local STALE_P99 = { calls = 2000, share = 0.25 }  -- stable above FIT's p99 in under ¼ of 1 % of 2,000+ calls: FIT starts over
local HOLD_CONFIDENCE = 0.75             -- no promotion while the last 1 or 5 min look worse at this confidence (0.5 < c < 1)

local CANARY = PIPELINE .. ".split.canary_weight"
local STABLE = PIPELINE .. ".split.stable_weight"
local APPROVAL_GATE = PIPELINE .. "-canary"
local CANARY_SIDE = PIPELINE .. ".canary"   -- what the rule's decisions are about
local MEMORY_VERSION = 2                    -- memory kept by a reload from another version is not read

local function criteria(errors, p99, alpha)
  return { confidence = 1 - alpha, error_rate = errors, p99 = { relative = p99 },
           timeout_rate = false, rejection_rate = false, latency_shift = false }
end

local function judge(since, errors, p99, alpha)
  return sentinel.compare{ pipeline = PIPELINE, candidate = "canary", reference = "stable", since = since,
                           mode = "sequential", criteria = criteria(errors, p99, alpha) }
end

-- Why the judge found what it found, in words.
local function explain(evidence)
  local text = string.format("errors %.2f%% vs stable %.2f%%", 100 * (evidence["error_rate.candidate_rate"] or 0),
                             100 * (evidence["error_rate.reference_rate"] or 0))
  if evidence["p99.threshold_reference"] then
    text = text .. string.format(", %.2f%% of calls above %.0fms vs stable %.2f%% above %.0fms",
      100 * (evidence["p99.candidate_rate"] or 0), 1000 * (evidence["p99.threshold_candidate"] or 0),
      100 * (evidence["p99.reference_rate"] or 0), 1000 * evidence["p99.threshold_reference"])
  end
  return text .. string.format(" (%d canary calls in %.0fs)", evidence.candidate_calls or 0, evidence.since_seconds or 0)
end

-- Whether a segment's estimates (not their bounds) are beyond HARM's margins.
local function looks_worse(evidence)
  local limit = evidence["error_rate.reference_rate"] * (1 + ERROR_HARM.relative) + ERROR_HARM.absolute
  return evidence["error_rate.candidate_rate"] > limit or (evidence["p99.difference"] or 0) > 0
end

-- Why a canary shown as good should still wait, or nil: the older live
-- segment's estimates (not their bounds) are worse than HARM's margins, or
-- the last minute's or five minutes' calls look worse to the fixed-sample
-- judge at HOLD_CONFIDENCE (errors beyond HARM's margin and higher than
-- stable's at that confidence; a p99 above 1.1 × stable's with a heavier
-- tail). The last minutes are where a regression that began minutes before
-- FIT passed shows while it is still a small part of the step's and the
-- segments' calls (at 10 req/s a segment lasts 20 minutes). Looks, not
-- tests: a hold only waits for HARM or for better data, it never rolls back.
local function hold_reason(oldest)
  if looks_worse(oldest) then
    return "its older live segment's estimates are worse than HARM's margins: " .. explain(oldest), oldest
  end
  for _, window in ipairs({ "1m", "5m" }) do
    local verdict, evidence = sentinel.compare{ pipeline = PIPELINE, candidate = "canary", reference = "stable",
      window = window, criteria = criteria(ERROR_HARM, P99_HARM, 1 - HOLD_CONFIDENCE) }
    if verdict == "violation" then
      return string.format("its last %s looks worse than stable's (%s)", window, evidence.violated), evidence
    end
  end
  return nil
end

-- The first step: the smallest weight that gives the canary DETECT_CALLS calls within FIRST_STEP.
local function first_step(rate)
  for index, weight in ipairs(LADDER) do
    if rate * weight / 100 * FIRST_STEP >= DETECT_CALLS then return index end
  end
  return #LADDER
end

local function set_weight(percent, why)
  sentinel.set(CANARY, percent, why)
  sentinel.set(STABLE, 100 - percent, why)
end

-- The last step's segments: HARM judges the latest two too, so that a
-- regression that starts late in a long step is not diluted by the calls
-- before it. A segment starts every SEGMENT_CALLS / 2 canary calls and lives
-- for two, on one of two marks.
local function segment_mark(k)
  return "segment" .. (k % 2)
end

local function begin_segment(state, memory, k)
  memory.segment = k
  memory.segment_since = state.now
  sentinel.mark(PIPELINE, segment_mark(k))
end

local function mark_step(state, memory, index)
  memory.step = index
  memory.fit = nil
  memory.holding = nil
  memory.since = state.now
  sentinel.mark(PIPELINE, "step")
  if index == #LADDER then begin_segment(state, memory, 1) end
end

local function begin_step(state, memory, index, why, evidence)
  mark_step(state, memory, index)
  local reason = why .. ": step to " .. LADDER[index] .. "%"
  sentinel.decision{ action = "advance", subject = CANARY_SIDE, reason = reason, evidence = evidence }
  set_weight(LADDER[index], { reason = reason, evidence = evidence })
end

local function roll_back(memory, verdict, detail, evidence)
  memory.status = "rolled_back"
  sentinel.decision{ action = "rollback", subject = CANARY_SIDE, verdict = verdict, reason = detail, evidence = evidence }
  set_weight(0, { reason = detail .. "; rolled back", evidence = evidence })
  sentinel.alert("warning", "canary rolled back: " .. detail, evidence)
  -- A person asked to approve the last step has nothing left to answer. The gate is
  -- closed whether or not this memory asked (gates outlive memory; closing a closed one does nothing).
  memory.waiting = nil
  sentinel.approval_reset(APPROVAL_GATE)
end

-- Who answered the gate and why, for the reason of what the answer led to.
local function answered(gate)
  local text = "approval " .. APPROVAL_GATE .. " " .. gate.status .. " by " .. (gate.answered_by or "?")
  if gate.reason then text = text .. " (" .. gate.reason .. ")" end
  return text
end

-- Waits at the last step for a person's answer. Returns the gate once
-- answered (and closes it, so that the next release asks again), nil while
-- pending. The gate is opened once and the wait alerted once.
local function await_approval(memory, detail, evidence)
  local status, gate = sentinel.approval(APPROVAL_GATE, { message = string.format(
    "canary at %d%% is as good as stable (%s): approve the step to 100%%", LADDER[memory.step], detail) })
  if not memory.waiting then
    memory.waiting = true
    sentinel.alert("info", "canary at " .. LADDER[memory.step] .. "%: waiting for approval " .. APPROVAL_GATE, evidence)
  end
  if status == "pending" then return nil end
  memory.waiting = nil
  sentinel.approval_reset(APPROVAL_GATE)
  gate.status = status
  return gate
end

-- FIT's p99 criterion compares the canary with a threshold estimated from
-- stable's first calls of the test. One estimated during a burst of slow calls
-- (both sides slow for a few seconds) stays too high: stable then has almost
-- no calls above it, and FIT could never pass. Once stable had STALE_P99.calls
-- calls with at most STALE_P99.share of the share the quantile puts above it,
-- FIT starts over on a new mark, with a new estimate. The first FIT test gets
-- 9/10 of FIT's budget; the tests after it share the rest, the j-th
-- 6 / (π² (j-1)²) of it: however many there are, together at most all.
local function fit_alpha(j)
  if j == 1 then return FALSE_PROMOTION / 2 * 0.9 end
  return FALSE_PROMOTION / 2 * 0.1 * 6 / (math.pi ^ 2 * (j - 1) ^ 2)
end

local function stale_p99(evidence)
  local calls = evidence["p99.reference_calls"] or 0
  return evidence["p99.verdict"] == "continue" and calls >= STALE_P99.calls
    and (evidence["p99.reference_bad"] or 0) <= STALE_P99.share * (1 - (evidence["p99.quantile"] or 0.99)) * calls
end

-- The budget of a release whose first step is LADDER[first]: HARM's α per test
-- (two per step, and two for the last step's segments together).
local function harm_alpha(first)
  return FALSE_ROLLBACK / (2 * (#LADDER - first + 1) + 2)
end

-- Before the first step: count the traffic, then choose the first step and the budget.
local function start(state, memory)
  local weight = sentinel.get(CANARY) or 0
  if weight >= 100 then
    -- Memory is gone (a restart) but the canary takes all traffic: it was promoted.
    memory.status = "promoted"
    return
  end
  if weight > 0 then
    -- A restart in the middle of a release: go on from the step the weight is at.
    local index = 1
    for i, w in ipairs(LADDER) do if w <= weight then index = i end end
    memory.version = MEMORY_VERSION
    memory.alpha = harm_alpha(index)
    mark_step(state, memory, index)
    sentinel.log("info", string.format("canary: resumes at %g%% (step %d of the ladder) after a restart", weight, index))
    return
  end
  local seen = sentinel.since(PIPELINE, "release")
  -- Count afresh unless the mark is the one this memory took (memory.counting
  -- holds its instant: a mark left by an earlier release, from before memory
  -- was reset, or by another process of a fleet is not this count), and while
  -- the pipeline had no call at all: the count starts with the traffic, so
  -- idle time before it does not dilute the rate.
  if not seen or seen.since ~= memory.counting or seen.calls == 0 then
    -- An answer left from an earlier release (gates survive restarts) must not skip the person.
    sentinel.approval_reset(APPROVAL_GATE)
    memory.counting = sentinel.mark(PIPELINE, "release")
    memory.counting_on = nil
    return
  end
  if seen.seconds < MEASURE then return end
  if seen.calls < MEASURE_CALLS then
    -- Under MEASURE_CALLS / MEASURE req/s the count goes on until it has enough calls to tell the rate.
    if not memory.counting_on then
      memory.counting_on = true
      sentinel.log("info", string.format("canary: %d calls in %.0fs, too few to size the first step: counting on",
        seen.calls, seen.seconds))
    end
    return
  end
  -- The rate over the count, or over the last 10 s if higher (traffic that began during the count):
  -- a rate taken too low would make the first step too big.
  local rate = math.max(seen.calls / seen.seconds, state.pipelines[PIPELINE].windows["10s"].calls / 10)
  local first = first_step(rate)
  memory.version = MEMORY_VERSION
  memory.alpha = harm_alpha(first)
  local evidence = { rate = rate, steps = #LADDER - first + 1, alpha = memory.alpha, detect_calls = DETECT_CALLS }
  if rate * LADDER[first] / 100 * FIRST_STEP < DETECT_CALLS then
    sentinel.log("warning", string.format("canary: %.1f req/s is too little traffic for %d canary calls in %ds "
      .. "at %d%%: each step takes longer (README: guarantees)", rate, DETECT_CALLS, FIRST_STEP, LADDER[first]))
  end
  begin_step(state, memory, first, string.format("%.1f req/s", rate), evidence)
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
    if memory.step and memory.version ~= MEMORY_VERSION then
      -- Memory carried over a reload from another version of this rule: read where the release stands from the weight.
      for key in pairs(memory) do memory[key] = nil end
    end
    if not memory.step then return start(state, memory) end
    if not sentinel.since(PIPELINE, "step") then
      -- The mark is gone while memory stayed (the pipeline was registered again, with its
      -- registered weights): the step starts over on fresh calls, at its weight.
      mark_step(state, memory, memory.step)
      set_weight(LADDER[memory.step], "the step's mark was gone: the step at " .. LADDER[memory.step] .. "% starts over")
      return
    end

    local verdict, evidence = judge("step", ERROR_HARM, P99_HARM, memory.alpha)
    if verdict == "violation" then
      return roll_back(memory, verdict, "worse than stable at " .. LADDER[memory.step] .. "% (" .. evidence.violated
        .. "): " .. explain(evidence), evidence)
    end
    local seconds = state.now - memory.since
    if memory.step < #LADDER then
      if evidence.candidate_calls >= DETECT_CALLS and seconds >= MIN_STEP then
        begin_step(state, memory, memory.step + 1, "no regression in " .. explain(evidence), evidence)
      end
      return
    end

    -- The k-th segment gets 6 / (π² k²) of the segments' share of the budget:
    -- however many there are, together they spend at most all of it.
    local latest = memory.segment
    local latest_calls, oldest
    for k = math.max(1, latest - 1), latest do
      local recent, recent_evidence = judge(segment_mark(k), ERROR_HARM, P99_HARM, memory.alpha * 6 / (math.pi ^ 2 * k * k))
      if recent == "violation" then
        return roll_back(memory, recent, "worse than stable at " .. LADDER[memory.step] .. "% in its latest calls ("
          .. recent_evidence.violated .. "): " .. explain(recent_evidence), recent_evidence)
      end
      latest_calls = recent_evidence.candidate_calls
      oldest = oldest or recent_evidence
    end
    if latest_calls >= SEGMENT_CALLS / 2 and state.now - memory.segment_since >= MIN_STEP / 2 then
      begin_segment(state, memory, latest + 1)
    end

    local fit_test = memory.fit or 1
    local fit, fit_evidence = judge(fit_test == 1 and "step" or "fit", ERROR_PASS, P99_PASS, fit_alpha(fit_test))
    if fit ~= "pass" and stale_p99(fit_evidence) then
      memory.fit = fit_test + 1
      sentinel.mark(PIPELINE, "fit")
      sentinel.log("info", string.format("canary: stable had %d of %d calls above the p99 FIT estimated (%.0fms):"
        .. " FIT starts over with a new estimate", fit_evidence["p99.reference_bad"], fit_evidence["p99.reference_calls"],
        1000 * (fit_evidence["p99.threshold_reference"] or 0)))
      return
    end
    -- Not yet shown as good, or not long enough: hold (unless a person was asked already: they decide).
    if not memory.waiting and (fit ~= "pass" or seconds < BAKE) then return end
    -- Shown as good on the whole step, but not in its latest calls: hold (stated once a step).
    local hold, hold_evidence
    if not memory.waiting then hold, hold_evidence = hold_reason(oldest) end
    if hold then
      if not memory.holding then
        memory.holding = true
        sentinel.decision{ action = "hold", subject = CANARY_SIDE, verdict = fit, evidence = hold_evidence,
          reason = "as good as stable at " .. LADDER[memory.step] .. "%, but " .. hold .. ": holding until HARM or later calls tell" }
      end
      return
    end
    local why = "as good as stable: " .. explain(fit_evidence)
    if REQUIRE_APPROVAL then
      local gate = await_approval(memory, explain(fit_evidence), fit_evidence)
      if not gate then return end  -- pending: hold here, asked and alerted once
      fit_evidence.approval = { gate = APPROVAL_GATE, answered_by = gate.answered_by, reason = gate.reason }
      if gate.status == "denied" then return roll_back(memory, "denied", answered(gate), fit_evidence) end
      why = answered(gate)
    end
    memory.status = "promoted"
    sentinel.decision{ action = "promote", subject = CANARY_SIDE, verdict = fit, reason = why, evidence = fit_evidence }
    set_weight(100, { reason = why .. ": promoted to 100%", evidence = fit_evidence })
    sentinel.alert("info", "canary promoted: it takes all traffic", fit_evidence)
  end,
}
