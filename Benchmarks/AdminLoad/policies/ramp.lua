-- Under load: reads the canary's and stable's windows every second and moves
-- the canary weight between 1 and 5 every third evaluation.
return {
  interval = "1s",
  evaluate = function(state, memory)
    local checkout = state.pipelines.checkout
    local canary = checkout.variants.canary.windows["10s"]
    local stable = checkout.variants.stable.windows["10s"]
    memory.n = (memory.n or 0) + 1
    if memory.n % 3 == 0 then
      local weight = (memory.n // 3) % 5 + 1
      sentinel.set("checkout.split.canary_weight", weight, {
        reason = "load harness: canary weight " .. weight,
        evidence = { canary_calls = canary.calls, canary_p99 = canary.p99, stable_p99 = stable.p99 },
      })
    end
  end,
}
