import Foundation
import Music
import Testing
import TestSupport

@Suite("SVG line chart")
struct LineChartSVGTests {
    static func points(_ attributes: [String: String]) -> [(x: Double, y: Double)] {
        (attributes["points"] ?? "").split(separator: " ").map { pair in
            let xy = pair.split(separator: ",").compactMap { Double($0) }
            return (xy[0], xy[1])
        }
    }

    @Test("a line per series with a point per value; lower values sit lower; legend and axes")
    func lossCurve() throws {
        let train = [2.9, 2.1, 1.6, 1.3, 1.1]
        let valid = [2.7, 2.0, 1.7, 1.65, 1.7]
        var chart = LineChartSVG(title: "Training m & <n>", xLabel: "epoch", yLabel: "NLL", series: [
            .init(name: "train NLL", colour: "#1f77b4", points: train.enumerated().map { (Double($0.offset + 1), $0.element) }),
            .init(name: "valid NLL", colour: "#d62728", points: valid.enumerated().map { (Double($0.offset + 1), $0.element) }),
        ])
        chart.highlight = (4, 1.65, "best")
        let xml = try SVGDocument.parse(chart.render())
        let lines = xml.withClass("series")
        try #require(lines.count == 2)
        for (line, values) in zip(lines, [train, valid]) {
            let drawn = Self.points(line)
            #expect(drawn.count == values.count)
            // x grows with the epoch; SVG y grows downwards, so a smaller NLL has a larger y.
            for i in 1..<values.count {
                #expect(drawn[i].x > drawn[i - 1].x)
                #expect((drawn[i].y > drawn[i - 1].y) == (values[i] < values[i - 1]))
            }
        }
        #expect(xml.withClass("point").count == train.count + valid.count)
        #expect(xml.withClass("legend").count == 2)
        #expect(xml.withClass("highlight").count == 1)
        // Epoch ticks are whole numbers 1...5.
        #expect(xml.elements.filter { $0.attributes["class"] == "x-tick" }.count == 5)
        #expect(xml.withClass("y-tick").count >= 3)
    }

    @Test("one epoch, or a flat line, still draws")
    func degenerate() throws {
        let chart = LineChartSVG(title: "t", xLabel: "epoch", yLabel: "NLL", series: [
            .init(name: "train", colour: "#000", points: [(1, 1.5)]),
            .init(name: "valid", colour: "#f00", points: [(1, 1.5)]),
        ])
        let xml = try SVGDocument.parse(chart.render())
        #expect(xml.withClass("point").count == 2)
        #expect(xml.withClass("point").allSatisfy { Double($0["cy"] ?? "") != nil })
    }

    @Test("ticks step by 1, 2 or 5 times a power of ten and cover the range", arguments: [(0.83, 2.91), (0.0, 1.0), (1.0, 37.0), (-3.2, 4.4)])
    func ticks(range: (Double, Double)) {
        let ticks = LineChartSVG.ticks(from: range.0, to: range.1, about: 6)
        #expect(ticks.count >= 3 && ticks.count <= 12)
        #expect(ticks.allSatisfy { $0 >= range.0 - 1e-9 && $0 <= range.1 + 1e-9 })
        let step = ticks[1] - ticks[0]
        var mantissa = step
        while mantissa >= 10 { mantissa /= 10 }
        while mantissa < 1 { mantissa *= 10 }
        #expect([1.0, 2, 5].contains { abs($0 - mantissa) < 1e-6 }, "step \(step)")
    }
}
