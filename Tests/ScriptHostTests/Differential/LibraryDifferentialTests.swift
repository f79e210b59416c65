import Testing

@testable import ScriptHost

/// The string functions that keep the stock implementation behind a cost
/// check, and the table functions we wrote, against the stock library.
@Suite struct LibraryDifferentialTests {
    struct Generator {
        var random: SeededGenerator
        init(salt: UInt64) { random = SeededGenerator(seed: Differential.seed ^ salt) }

        mutating func pick<T>(_ choices: [T]) -> T { choices[Int.random(in: 0..<choices.count, using: &random)] }
        mutating func chance(_ percent: Int) -> Bool { Int.random(in: 0..<100, using: &random) < percent }
        mutating func integer(_ range: ClosedRange<Int64>) -> Argument { .integer(Int64.random(in: range, using: &random)) }

        mutating func text() -> Argument {
            let alphabet = Array("abcXYZ 019.,%\"\\\n".utf8) + [0, 7, 0x80, 0xFF]
            return .bytes((0..<Int.random(in: 0...12, using: &random)).map { _ in pick(alphabet) })
        }

        /// An index argument: small, negative, zero, huge, absent or wrong.
        mutating func position() -> Argument {
            switch Int.random(in: 0..<12, using: &random) {
            case 0: return .nil
            case 1: return .integer(.max)
            case 2: return .integer(.min)
            case 3: return .number(2.5)
            case 4: return .text("3")
            case 5: return .boolean(true)
            default: return integer(-15...15)
            }
        }

        mutating func list(of length: Int? = nil) -> [Argument] {
            (0..<(length ?? Int.random(in: 0...8, using: &random))).map { _ in
                chance(80) ? integer(-50...50) : .text("s\(Int.random(in: 0...9, using: &random))")
            }
        }
    }

    static let formats = [
        "%d", "%5.2f", "%s", "%q", "%x", "%-5s|", "%c", "%i", "%g", "%10.3s", "%%", "%a", "%o", "%e", "%u", "%5",
        "%s %s", "%q%q", "%#x", "%+d", "%.20s", "%099d", "%100d",
    ]

    /// One argument list for a known-cost string function.
    static func arguments(for function: String, _ g: inout Generator) -> [Argument] {
        switch function {
        case "rep":
            // A huge count only with a non-empty string: stock rep of "" loops `count` times.
            if g.chance(10) { return [.text("ab"), g.pick([.integer(1 << 31), .integer(.max), .number(3e9)]), g.text()] }
            return [g.text(), g.integer(-2...6), g.chance(40) ? g.text() : .nil]
        case "sub", "byte": return [g.text(), g.position(), g.position()]
        case "char":
            return (0..<Int.random(in: 0...4, using: &g.random)).map { _ in g.chance(90) ? g.integer(0...255) : g.integer(-1...300) }
        case "upper": return [g.chance(95) ? g.text() : .integer(12)]
        case "lower": return [g.chance(95) ? g.text() : .nil]
        case "len": return [g.chance(95) ? g.text() : .boolean(false)]
        case "format":
            let argument: Argument = g.pick([
                g.text(), g.integer(-300...300), .number(3.25), .number(-0.0), .nil, .boolean(true), .number(1e300),
            ])
            return [.text(g.pick(formats)), argument, g.text()]
        default: return [g.text()]
        }
    }

    @Test(arguments: ["rep", "sub", "byte", "char", "upper", "lower", "reverse", "len", "format"])
    func stringFunctionWithKnownCostMatchesStock(function: String) throws {
        var run = try DifferentialRun()
        var g = Generator(salt: 11 &+ UInt64(function.utf8.reduce(0) { $0 &* 31 &+ Int($1) }))
        for _ in 0..<Differential.cases(2000) { run.check(function, Self.arguments(for: function, &g)) }
        run.finish()
    }

    @Test(arguments: ["insert", "remove", "move", "concat", "unpack"])
    func listFunctionMatchesStock(function: String) throws {
        var run = try DifferentialRun()
        var g = Generator(salt: 12 &+ UInt64(function.utf8.count))
        for _ in 0..<Differential.cases(2000) {
            var items = g.list()
            switch function {
            case "insert":
                let list = Argument.list(items)
                switch Int.random(in: 0..<6, using: &g.random) {
                case 0: run.check("insert", [list])
                case 1: run.check("insert", [list, g.integer(0...9), .integer(99), .integer(98)])
                case 2, 3: run.check("insert", [list, .text("v")])
                default: run.check("insert", [list, g.position(), .text("v")])
                }
            case "remove":
                run.check("remove", g.chance(30) ? [.list(items)] : [.list(items), g.position()])
            case "move":
                // Small ranges only: stock Lua has no limits, and move(t, 1, maxinteger, 2) runs for ever.
                run.check("move", [.list(items), g.integer(-3...9), g.integer(-3...9), g.integer(-3...9), .boolean(g.chance(40))])
            default:
                if g.chance(10) && !items.isEmpty { items[Int.random(in: 0..<items.count, using: &g.random)] = .boolean(true) }
                if g.chance(10) { items.append(.number(0.5)) }
                if g.chance(5) { items.append(.list([])) }
                if function == "concat" {
                    run.check("concat", [.list(items), g.chance(60) ? .text(",") : .nil, g.position(), g.position()])
                } else {
                    run.check("unpack", [.list(items), g.position(), g.position()])
                }
            }
        }
        switch function {
        case "insert": run.check("insert", [.integer(5), .integer(1)])
        case "move":
            run.check("move", [.list([]), .integer(-1), .integer(.max), .integer(1)])
            run.check("move", [.list([.integer(1), .integer(2)]), .integer(1), .integer(2), .integer(.max)])
        case "unpack":
            run.check("unpack", [.list([]), .integer(1), .integer(100_000_000)])
            run.check("unpack", [.nil])
        case "concat": run.check("concat", [.list([]), .nil, .integer(1), .integer(0)])
        default: break
        }
        run.finish()
    }

    /// For a total order without ties the result is stock's exactly; with
    /// ties it is a sorted permutation; with an inconsistent order function
    /// it is an error or some permutation (stock may say "invalid order
    /// function for sorting", ours returns a permutation).
    @Test func sortMatchesStock() throws {
        var run = try DifferentialRun()
        var g = Generator(salt: 14)
        for _ in 0..<Differential.cases(3000) {
            let length = g.chance(20) ? Int.random(in: 20...300, using: &g.random) : Int.random(in: 0...12, using: &g.random)
            let distinct = g.chance(60)
            var items: [Argument]
            if g.chance(25) {
                let words = (0..<length).map { index in
                    distinct ? "w\(index * 7919 % 10007)" : "w\(Int.random(in: 0...5, using: &g.random))"
                }
                items = words.map { Argument.text($0) }
            } else {
                items = (0..<length).map { index in
                    distinct ? .integer(Int64(index * 7919 % 10007)) : g.integer(0...5)
                }
                items.shuffle(using: &g.random)
                if g.chance(10) && length > 0 { items[0] = .number(0.5) }
            }
            if g.chance(5) && length > 1 { items[length - 1] = .text("mixed") }
            let order: Argument = g.pick([.nil, .nil, .text("desc"), .text("always"), .text("never")])
            let inconsistent = order.isInconsistentOrder
            run.check("sort", [.list(items), order]) { stock, ours in
                if stock == ours { return true }
                if inconsistent { return ours.ok ? LibraryDifferentialTests.samePermutation(ours, items) : !stock.ok }
                // Ties: both sorted, same multiset (the order among equal elements may differ).
                return stock.ok && ours.ok && LibraryDifferentialTests.sameSortedMultiset(stock, ours)
            }
        }
        run.finish()
    }

    static func elements(_ outcome: Outcome) -> [String] {
        guard let line = outcome.lines.first, line.hasPrefix("{"), line.hasSuffix("}") else { return [] }
        return line.dropFirst().dropLast().split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    static func sameSortedMultiset(_ a: Outcome, _ b: Outcome) -> Bool {
        // Equal elements show identically, so equal multisets sorted the same way show the same.
        elements(a).sorted() == elements(b).sorted() && elements(a).count == elements(b).count
            && runsOfEqualElements(elements(a)) == runsOfEqualElements(elements(b))
    }

    /// The sequence of distinct elements: identical for two sorted orders of one multiset.
    static func runsOfEqualElements(_ items: [String]) -> [String] {
        var runs: [String] = []
        for item in items where runs.last != item { runs.append(item) }
        return runs
    }

    static func samePermutation(_ outcome: Outcome, _ items: [Argument]) -> Bool {
        let shown = elements(outcome)
        let expected = items.map { item -> String in
            switch item {
            case .integer(let value): "integer:\(value)"
            case .number(let value): "float:\(value == 0.5 ? "0.5" : "\(value)")"
            case .bytes(let bytes): "\"" + String(decoding: bytes, as: UTF8.self) + "\""
            default: "?"
            }
        }
        return shown.count == items.count && shown.sorted() == expected.sorted()
    }
}

extension Argument {
    var isInconsistentOrder: Bool {
        if case .bytes(let bytes) = self { return bytes == Array("always".utf8) || bytes == Array("never".utf8) }
        return false
    }
}
