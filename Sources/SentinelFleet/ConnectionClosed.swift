/// A session's connection is gone (closed by the server, the network or a
/// deadline): its notifications ended, or a call found it closed.
struct ConnectionClosed: Error, CustomStringConvertible {
    var description: String { "the connection to the database is closed" }
}
