import ArgumentParser

/// `sentinel token create ID`
struct TokenCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token",
        abstract: "Make tokens for the admin API.",
        discussion: """
            Example:
              sentinel token create alice
            """,
        subcommands: [TokenCreateCommand.self]
    )
}

/// `sentinel token create ID`: no server needed.
struct TokenCreateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "create",
        abstract: "Make a new token and the line for the server's tokens file.",
        discussion: """
            Prints two lines: the token alone (32 random bytes as 64 lowercase hex characters; \
            give it to the operator, for example as a file for --token-file), then the item to \
            add to the tokens file of `sentinel run --admin-tokens FILE`: \
            `- { id: ID, sha256: HEX }`, HEX being the SHA-256 of the token. The tokens file \
            holds no token, only hashes; the server reads it again on SIGHUP. The token is made \
            here and shown once: nothing keeps it.

            ID: letters, digits, `_ - . @`, 1 to 64 characters; the API's identity is \
            operator:ID.

            Example:
              sentinel token create alice
              sentinel token create deploy-bot > new-token   # the token, then the item
              head -1 new-token > bot.token; tail -1 new-token >> tokens.yaml; rm new-token
            """
    )

    @Argument(help: "Who the token is for: letters, digits, _ - . @ (1 to 64 characters).")
    var id: String

    func validate() throws {
        if let problem = NewToken.problem(withID: id) { throw ValidationError(problem) }
    }

    func run() throws {
        let token = NewToken.random()
        print(token.token)
        print(token.tokensFileItem(id: id))
    }
}
