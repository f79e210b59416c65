return {
  name = "slow",
  interval = 9223372036,
  evaluate = function(state, memory) end,
}
