/// A small line chart: named series of (x, y) points on shared axes with "nice" ticks and a legend.
/// `sideman train` draws its loss curve with it.
public struct LineChartSVG: Sendable {
    public struct Series: Sendable {
        public var name: String
        public var colour: String
        public var points: [(x: Double, y: Double)]

        public init(name: String, colour: String, points: [(x: Double, y: Double)]) {
            self.name = name
            self.colour = colour
            self.points = points
        }
    }

    public var title: String
    public var xLabel: String
    public var yLabel: String
    public var series: [Series]
    /// A point to ring (the best epoch), with its caption.
    public var highlight: (x: Double, y: Double, caption: String)?
    /// Whole-number ticks on x (epochs).
    public var integerX = true
    public var width = 640.0
    public var height = 400.0

    public init(title: String, xLabel: String, yLabel: String, series: [Series]) {
        self.title = title
        self.xLabel = xLabel
        self.yLabel = yLabel
        self.series = series
    }

    /// Tick positions covering `low...high`: steps of 1, 2 or 5 times a power of ten, about `count` of them.
    public static func ticks(from low: Double, to high: Double, about count: Int, integer: Bool = false) -> [Double] {
        guard low.isFinite, high.isFinite, high > low else { return low.isFinite ? [low] : [] }
        let rough = (high - low) / Double(max(1, count))
        var power = 1.0
        while power * 10 <= rough { power *= 10 }
        while power > rough { power /= 10 }
        var step = [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= rough } ?? power * 10
        if integer { step = max(1, step.rounded()) }
        var tick = (low / step).rounded(.up) * step
        var ticks: [Double] = []
        while tick <= high + step * 1e-9 {
            ticks.append(tick)
            tick += step
        }
        return ticks
    }

    public func render() -> String {
        let left = 64.0, right = 20.0, top = 36.0, bottom = 50.0
        let legendHeight = Double(series.count + (highlight == nil ? 0 : 1)) * 18 + 8
        let plotWidth = width - left - right
        let plotHeight = height - top - bottom - legendHeight
        let all = series.flatMap(\.points).filter { $0.x.isFinite && $0.y.isFinite }
        var xLow = all.map(\.x).min() ?? 0, xHigh = all.map(\.x).max() ?? 1
        if xHigh - xLow < 1 { xHigh = xLow + 1 }
        var yLow = all.map(\.y).min() ?? 0, yHigh = all.map(\.y).max() ?? 1
        let pad = max((yHigh - yLow) * 0.08, 0.01 * max(abs(yHigh), 1))
        yLow -= pad
        yHigh += pad
        if integerX {
            xLow = xLow.rounded(.down)
            xHigh = xHigh.rounded(.up)
        }
        let x = { (value: Double) in left + (value - xLow) / (xHigh - xLow) * plotWidth }
        let y = { (value: Double) in top + (yHigh - value) / (yHigh - yLow) * plotHeight }

        var canvas = SVGCanvas(width: width, height: height)
        canvas.text(title, x: left, y: 22, size: 14, style: "fill=\"#222\" font-weight=\"bold\"", className: "title")
        for value in Self.ticks(from: yLow, to: yHigh, about: 6) {
            canvas.line(x1: left, y1: y(value), x2: left + plotWidth, y2: y(value), style: "stroke=\"#e2e2e8\"", className: "y-grid")
            canvas.text(Self.label(value), x: left - 6, y: y(value) + 4, size: 10, anchor: "end", className: "y-tick")
        }
        for value in Self.ticks(from: xLow, to: xHigh, about: 10, integer: integerX) {
            canvas.line(x1: x(value), y1: top + plotHeight, x2: x(value), y2: top + plotHeight + 4, style: "stroke=\"#666\"")
            canvas.text(Self.label(value), x: x(value), y: top + plotHeight + 16, size: 10, anchor: "middle", className: "x-tick")
        }
        canvas.rect(x: left, y: top, width: plotWidth, height: plotHeight, style: "fill=\"none\" stroke=\"#666\"")
        canvas.text(xLabel, x: left + plotWidth / 2, y: top + plotHeight + 34, size: 11, anchor: "middle", className: "x-label")
        canvas.text(yLabel, x: 16, y: top + plotHeight / 2, size: 11, anchor: "middle", className: "y-label", rotated: true)

        for line in series {
            let points = line.points.filter { $0.x.isFinite && $0.y.isFinite }.map { (x: x($0.x), y: y($0.y)) }
            canvas.polyline(points, style: "stroke=\"\(line.colour)\" stroke-width=\"2\"", className: "series")
            for point in points {
                canvas.circle(x: point.x, y: point.y, radius: 2.5, style: "fill=\"\(line.colour)\"", className: "point")
            }
        }
        if let highlight, highlight.x.isFinite, highlight.y.isFinite {
            canvas.circle(x: x(highlight.x), y: y(highlight.y), radius: 6, style: "fill=\"none\" stroke=\"#222\" stroke-width=\"1.5\"", className: "highlight")
        }
        let legendTop = top + plotHeight + bottom
        for (index, line) in series.enumerated() {
            let rowY = legendTop + Double(index) * 18
            canvas.line(x1: left, y1: rowY + 5, x2: left + 22, y2: rowY + 5, style: "stroke=\"\(line.colour)\" stroke-width=\"2\"", className: "legend-swatch")
            canvas.text(line.name, x: left + 30, y: rowY + 9, size: 11, className: "legend")
        }
        // The ring's caption goes in the legend, where it cannot cover a line.
        if let highlight {
            let rowY = legendTop + Double(series.count) * 18
            canvas.circle(x: left + 11, y: rowY + 5, radius: 5, style: "fill=\"none\" stroke=\"#222\" stroke-width=\"1.5\"")
            canvas.text(highlight.caption, x: left + 30, y: rowY + 9, size: 11, className: "highlight-caption")
        }
        return canvas.document
    }

    /// Up to four decimals, without trailing zeros (0.85, 1, 2.5).
    static func label(_ value: Double) -> String {
        guard value.isFinite else { return "?" }
        let scaled = Int((value * 10_000).rounded())
        let magnitude = abs(scaled)
        var fraction = String(magnitude % 10_000)
        fraction = String(repeating: "0", count: 4 - fraction.count) + fraction
        while fraction.hasSuffix("0") { fraction.removeLast() }
        let integer = "\(scaled < 0 ? "-" : "")\(magnitude / 10_000)"
        return fraction.isEmpty ? integer : "\(integer).\(fraction)"
    }
}
