return {
  name = "slow",
  interval = "2562048h",
  evaluate = function(state, memory) end,
}
