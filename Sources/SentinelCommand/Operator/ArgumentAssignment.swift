import Sentinel

/// `--arg KEY=VALUE` of `sentinel command`: the value is JSON when it parses
/// as JSON, else the text as a string.
///
/// `value=3` is the number 3, `enabled=true` a boolean, `names=["a","b"]` an
/// array, `param=checkout.timeout.duration` and `value=250ms` strings; to
/// send the string `"3"`, quote it for JSON: `value='"3"'`.
struct ArgumentAssignment: Sendable, Hashable {
    let key: String
    let value: JSONValue

    /// Parses one `KEY=VALUE`; the error is a usage message.
    init(_ text: String) throws(OperatorFailure) {
        guard let equals = text.firstIndex(of: "=") else {
            throw OperatorFailure(.usage, "--arg \(text): expected KEY=VALUE")
        }
        let key = String(text[..<equals])
        guard !key.isEmpty else {
            throw OperatorFailure(.usage, "--arg \(text): the key is empty (expected KEY=VALUE)")
        }
        self.key = key
        self.value = Self.value(String(text[text.index(after: equals)...]))
    }

    /// The JSON value of `text`, or `text` as a string when it is not JSON.
    static func value(_ text: String) -> JSONValue {
        (try? JSONParser().parse(text)) ?? .string(text)
    }

    /// The arguments object of many assignments; a key given twice is a usage error.
    static func object(_ texts: [String]) throws(OperatorFailure) -> [String: JSONValue] {
        var object: [String: JSONValue] = [:]
        for text in texts {
            let assignment = try ArgumentAssignment(text)
            guard object[assignment.key] == nil else {
                throw OperatorFailure(.usage, "--arg \(assignment.key) is given twice")
            }
            object[assignment.key] = assignment.value
        }
        return object
    }
}
