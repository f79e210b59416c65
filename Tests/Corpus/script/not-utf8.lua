return {
  interval = "5s",
  evaluate = function() local s = "ÿþ" end,
}
