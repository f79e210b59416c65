import ShadowEval

extension Dictionary where Key == String, Value == EvidenceValue {
    /// Evidence as a command value: numbers stay numbers (NaN is written as the string "NaN").
    var jsonValue: JSONValue {
        .object(
            mapValues { value in
                switch value {
                case .number(let number): .double(number)
                case .string(let text): .string(text)
                }
            })
    }
}
