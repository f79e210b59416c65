return {
  name = "slow",
  interval = 1e10,
  evaluate = function(state, memory) end,
}
