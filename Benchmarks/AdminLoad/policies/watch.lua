-- Under load: reads windows, knobs, trials and the freeze twice a second and
-- issues nothing; its short interval makes a stall of half a second a missed tick.
return {
  interval = "500ms",
  evaluate = function(state, memory)
    local calls = 0
    for _, pipeline in pairs(state.pipelines) do
      calls = calls + pipeline.windows["10s"].calls
    end
    local knobs = 0
    for _ in pairs(state.params) do knobs = knobs + 1 end
    for _ in pairs(state.trials) do end
    memory.calls, memory.knobs, memory.frozen = calls, knobs, state.frozen
  end,
}
