-- Breaker guard: a breaker tuned for bursts can miss a slow, sustained
-- failure (too few calls per window, a rate just under its threshold). When
-- a pipeline keeps failing while its breaker stays closed, force it open;
-- after a cool-off, let it close again through a reset and watch: if the
-- failures come back at once, open it again for twice as long.
local FAILING = 0.4       -- sustained error rate (5m window)
local MIN_CALLS = 100
local HOLD = 4            -- evaluations in a row
local COOL_OFF = 60       -- seconds before the first attempt to close

return {
  name = "breaker-guard",
  interval = "10s",
  evaluate = function(state, memory)
    memory.opened = memory.opened or {}
    for name, pipeline in pairs(state.pipelines) do
      local breaker = pipeline.breaker
      if breaker then
        local w = pipeline.windows["5m"]
        local recent = pipeline.windows["10s"]   -- only what happened since the last evaluation
        local opened = memory.opened[name]
        if not opened then
          local failing = breaker.state == "closed" and w.calls >= MIN_CALLS and w.error_rate > FAILING
          if sentinel.held(name .. ":sustained", failing, HOLD) then
            memory.opened[name] = { at = state.now, cool_off = COOL_OFF }
            sentinel.command("breaker.force_open", { pipeline = name }, { reason =
              "sustained failures the breaker's thresholds missed", evidence = {
                error_rate = w.error_rate, calls = w.calls, window = "5m", threshold = FAILING } })
          end
        elseif state.now - opened.at >= opened.cool_off then
          if opened.closing and recent.calls >= 10 and recent.error_rate > FAILING then
            -- It closed and failed again: open for twice as long.
            memory.opened[name] = { at = state.now, cool_off = opened.cool_off * 2 }
            sentinel.command("breaker.force_open", { pipeline = name }, { reason =
              "failures returned after closing", evidence = { error_rate = recent.error_rate, window = "10s" } })
          elseif opened.closing then
            if state.now - opened.closing >= opened.cool_off then memory.opened[name] = nil end
          else
            opened.closing = state.now
            sentinel.command("breaker.reset", { pipeline = name }, "cool-off over: let calls through again")
          end
        end
      end
    end
  end,
}
