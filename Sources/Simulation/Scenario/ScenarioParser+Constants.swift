import Sentinel

/// `constants`: top-level constants of the scripts, changed for this run.
extension ScenarioParser {
    func parseConstants(_ node: YAMLValue) throws(ConfigurationError) -> [ConstantOverride] {
        var overrides: [ConstantOverride] = []
        for (file, constants) in try node.mapping() {
            guard file.hasSuffix(".lua"), file.count > 4, !file.contains("/") else {
                throw constants.error("expected a script's file name in the policies folder, such as canary.lua")
            }
            for (name, valueNode) in try constants.mapping() {
                guard ConstantOverride.isIdentifier(name) else {
                    throw valueNode.error("\"\(name)\" is not a Lua name (letters, digits and _, not starting with a digit)")
                }
                let value = try valueNode.jsonValue()
                guard ScriptConstantRewriter.Kind(value) != nil else {
                    throw valueNode.error("expected true, false, a number or a string, got \(value.jsonString())")
                }
                overrides.append(
                    ConstantOverride(file: file, name: name, value: value, location: SourceLocation(valueNode, file: self.file)))
            }
        }
        return overrides
    }
}
