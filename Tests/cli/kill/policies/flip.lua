-- Changes a knob at every evaluation, so the sentinel saves its state and
-- writes the audit ten times a second: the kill -9 test kills it mid-save.
return {
  name = "flip",
  interval = "100ms",
  evaluate = function(state, memory)
    memory.n = (memory.n or 0) + 1
    local attempts = memory.n % 2 == 0 and 2 or 3
    sentinel.set("checkout.retry.max_attempts", attempts, { reason = "flip " .. memory.n, evidence = { n = memory.n } })
  end,
}
