-- Under load: reads every pipeline's 1m window and the knobs every second,
-- and flips search's retries between 2 and 3 every fifth evaluation.
return {
  interval = "1s",
  evaluate = function(state, memory)
    local worst = 0
    for _, pipeline in pairs(state.pipelines) do
      local w = pipeline.windows["1m"]
      if w.error_rate > worst then worst = w.error_rate end
    end
    memory.n = (memory.n or 0) + 1
    if memory.n % 5 == 0 then
      local attempts = state.params["search.retry.max_attempts"].value == 2 and 3 or 2
      sentinel.set("search.retry.max_attempts", attempts, {
        reason = "load harness: retries " .. attempts, evidence = { worst_error_rate = worst },
      })
    end
  end,
}
