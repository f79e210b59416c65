/// Reads a Server-Sent Events stream (`text/event-stream`) into events, as
/// the WHATWG HTML standard's "event stream interpretation" says.
///
/// Bytes come in chunks that may split lines anywhere (even a CR LF pair);
/// lines end in LF, CR LF or CR; `field: value` lines fill the event (one
/// space after the colon is dropped), `data` lines accumulate joined by LF, a
/// blank line dispatches it, lines starting with `:` are comments (the
/// server's `: keepalive`). An event without data is not dispatched, and an
/// event cut off by the end of the stream is discarded.
///
/// ```swift
/// var parser = ServerSentEventParser()
/// let events = try parser.feed(Array("event: audit\ndata: {\"a\":1}\n\n".utf8))
/// // [Event(type: "audit", data: "{\"a\":1}", id: nil)]
/// ```
struct ServerSentEventParser: Sendable {
    /// One dispatched event.
    struct Event: Sendable, Hashable {
        /// `event:`, or `message` when the event named none.
        var type: String
        /// The `data:` lines joined by line breaks.
        var data: String
        /// The last `id:` seen, if any.
        var id: String?
    }

    /// A line longer than this is refused: no event of ours comes close, and a
    /// stream that never ends its line must not grow without bound.
    static let maximumLineLength = 4 << 20

    /// The stream broke the limits.
    struct LineTooLong: Error, CustomStringConvertible {
        var description: String { "an event stream line is longer than \(maximumLineLength / (1 << 20)) MiB" }
    }

    private var line: [UInt8] = []
    private var afterCarriageReturn = false
    private var atStart = true
    private var eventType = ""
    private var dataLines: [String] = []
    private var hasData = false
    private var lastEventID: String?
    /// Comment lines seen (keepalives), for a caller that wants to know the stream is alive.
    private(set) var comments = 0

    init() {}

    /// Reads `bytes` and returns the events they completed, in order.
    mutating func feed(_ bytes: some Sequence<UInt8>) throws(LineTooLong) -> [Event] {
        var events: [Event] = []
        for byte in bytes {
            switch byte {
            case UInt8(ascii: "\n"):
                if afterCarriageReturn {
                    afterCarriageReturn = false  // the LF of a CR LF: its line is done
                    continue
                }
                if let event = endLine() { events.append(event) }
            case UInt8(ascii: "\r"):
                afterCarriageReturn = true
                if let event = endLine() { events.append(event) }
            default:
                afterCarriageReturn = false
                line.append(byte)
                guard line.count <= Self.maximumLineLength else { throw LineTooLong() }
            }
        }
        return events
    }

    /// Ends one line: a field, a comment, or the blank line that dispatches.
    private mutating func endLine() -> Event? {
        defer { line.removeAll(keepingCapacity: true) }
        if atStart {
            atStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }  // a byte order mark
        }
        if line.isEmpty { return dispatch() }
        if line.first == UInt8(ascii: ":") {
            comments += 1
            return nil
        }
        let field: String
        var value: Substring
        let text = String(decoding: line, as: UTF8.self)
        if let colon = text.firstIndex(of: ":") {
            field = String(text[..<colon])
            value = text[text.index(after: colon)...]
            if value.first == " " { value = value.dropFirst() }
        } else {
            field = text
            value = ""
        }
        switch field {
        case "event": eventType = String(value)
        case "data":
            dataLines.append(String(value))
            hasData = true
        case "id" where !value.contains("\0"): lastEventID = String(value)
        default: break  // `retry` and unknown fields: our reconnection has its own backoff
        }
        return nil
    }

    private mutating func dispatch() -> Event? {
        defer {
            eventType = ""
            dataLines.removeAll()
            hasData = false
        }
        guard hasData else { return nil }
        return Event(type: eventType.isEmpty ? "message" : eventType, data: dataLines.joined(separator: "\n"), id: lastEventID)
    }
}
