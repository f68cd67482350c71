/// The styles a band can play: every style its style-conditioned parts learned (the band corpus's groove
/// families), sorted by name. A style's place in the bank is its number: the program change (0-based) or
/// style controller value that picks it. Each part plays a style in its own model's unit, or with no
/// style when its model never learned that one.
public struct StyleBank: Equatable, Sendable {
    public let names: [String]

    public init(parts: [[String]]) {
        names = Set(parts.joined()).sorted()
    }

    public var isEmpty: Bool { names.isEmpty }

    public func number(of name: String) -> Int? { names.firstIndex(of: name.lowercased()) }

    /// For each bank number, the unit of that style among `styles` (a model's list), -1 where it has none.
    public func units(in styles: [String]) -> [Int] {
        names.map { styles.firstIndex(of: $0) ?? -1 }
    }

    /// The style a program change or controller value picks, nil past the bank's end.
    public func style(number: Int) -> Int? { (0..<names.count).contains(number) ? number : nil }
}
