extension String {
    /// At most the first `limit` characters, with `…` when cut: what a message
    /// or a log line quotes of text a user sent, so a megabyte of input never
    /// becomes a megabyte of log.
    public func excerpt(_ limit: Int = 80) -> String {
        guard utf8.count > limit else { return self }
        var cut = ""
        for character in self {
            guard cut.count < limit else { break }
            cut.append(character)
        }
        return cut + "…"
    }
}
