import Music

/// The styles a band can play: every style its style-conditioned parts learned (the band corpus's groove
/// families), sorted by name. A style's place in the bank is its number: the program change (0-based) or
/// style controller value that picks it. Each part plays a style in its own model's unit, or with no
/// style when its model never learned that one.
public struct StyleBank: Equatable, Sendable {
    public let names: [String]
    /// Each style's micro-timing (from a model that carries it, metadata `style_timing`), nil: straight.
    public let timings: [StyleTiming?]

    public init(parts: [[String]], timing: [String: StyleTiming] = [:]) {
        names = Set(parts.joined()).sorted()
        timings = names.map { timing[$0] }
    }

    /// Where style `number` plays the notes of a bar's step `stepInBar` against the grid, in steps
    /// (negative: early); 0 for a straight style, no style, or a bar its timing was not learned in.
    public func offset(style number: Int?, stepInBar: Int, stepsPerBar: Int) -> Double {
        guard let number, number >= 0, number < timings.count, let offsets = timings[number]?.offsets,
            offsets.count == stepsPerBar, stepInBar >= 0, stepInBar < stepsPerBar
        else { return 0 }
        return offsets[stepInBar]
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

extension StyleBank {
    /// Why `style` does not fit the band's bar `meter`, nil when it does (or nobody knows its bar): a style
    /// keeps the bar it was learned in, and played in another its groove is cut to the meter's bar.
    public static func meterProblem(style: String?, meter: Meter, parts: [Part]) -> String? {
        guard let style = style?.lowercased(), let steps = parts.lazy.compactMap({ $0.styleBars[style] }).first,
            steps != meter.stepsPerBar
        else { return nil }
        return "style \(style) was learned in bars of \(steps) 16ths; the band plays in \(meter) (\(meter.stepsPerBar) 16ths), "
            + "so its groove is cut to that bar: pick a style in the meter (sideman styles lists each one's bar)"
    }
}
