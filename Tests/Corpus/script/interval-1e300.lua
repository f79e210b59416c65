return {
  name = "slow",
  interval = 1e300,
  evaluate = function(state, memory) end,
}
