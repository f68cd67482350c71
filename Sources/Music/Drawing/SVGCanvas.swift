/// Builds SVG text element by element: numbers at a tenth of a pixel and escaped text, so every
/// drawing (piano rolls, loss curves) comes out as well-formed XML without a dependency.
public struct SVGCanvas: Sendable {
    public let width: Double
    public let height: Double
    private var elements: [String] = []

    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    public mutating func rect(x: Double, y: Double, width: Double, height: Double, style: String, className: String? = nil, title: String? = nil) {
        let attributes = "x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(max(0, width)))\" height=\"\(Self.number(max(0, height)))\" \(style)\(Self.classAttribute(className))"
        if let title {
            elements.append("<rect \(attributes)><title>\(Self.escaped(title))</title></rect>")
        } else {
            elements.append("<rect \(attributes)/>")
        }
    }

    public mutating func line(x1: Double, y1: Double, x2: Double, y2: Double, style: String, className: String? = nil) {
        elements.append("<line x1=\"\(Self.number(x1))\" y1=\"\(Self.number(y1))\" x2=\"\(Self.number(x2))\" y2=\"\(Self.number(y2))\" \(style)\(Self.classAttribute(className))/>")
    }

    public mutating func polyline(_ points: [(x: Double, y: Double)], style: String, className: String? = nil) {
        let list = points.map { "\(Self.number($0.x)),\(Self.number($0.y))" }.joined(separator: " ")
        elements.append("<polyline points=\"\(list)\" fill=\"none\" \(style)\(Self.classAttribute(className))/>")
    }

    public mutating func circle(x: Double, y: Double, radius: Double, style: String, className: String? = nil) {
        elements.append("<circle cx=\"\(Self.number(x))\" cy=\"\(Self.number(y))\" r=\"\(Self.number(radius))\" \(style)\(Self.classAttribute(className))/>")
    }

    /// `anchor`: start, middle or end.
    public mutating func text(_ content: String, x: Double, y: Double, size: Double = 11, anchor: String = "start", style: String = "fill=\"#333\"", className: String? = nil, rotated: Bool = false) {
        let rotation = rotated ? " transform=\"rotate(-90 \(Self.number(x)) \(Self.number(y)))\"" : ""
        elements.append("<text x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" font-size=\"\(Self.number(size))\" text-anchor=\"\(anchor)\" \(style)\(rotation)\(Self.classAttribute(className))>\(Self.escaped(content))</text>")
    }

    /// Raw markup the caller built (a `<defs>` block); it must be well formed already.
    public mutating func raw(_ markup: String) {
        elements.append(markup)
    }

    public var document: String {
        var out = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" font-family=\"sans-serif\">\n"
        out += "<rect x=\"0\" y=\"0\" width=\"\(Self.number(width))\" height=\"\(Self.number(height))\" fill=\"#ffffff\"/>\n"
        for element in elements {
            out += element
            out += "\n"
        }
        out += "</svg>\n"
        return out
    }

    /// A coordinate to a tenth of a pixel, without exponent notation (which SVG viewers reject in some places).
    public static func number(_ value: Double) -> String {
        guard value.isFinite else { return "0" }
        let tenths = Int((value * 10).rounded())
        let sign = tenths < 0 ? "-" : ""
        let magnitude = abs(tenths)
        return magnitude % 10 == 0 ? "\(sign)\(magnitude / 10)" : "\(sign)\(magnitude / 10).\(magnitude % 10)"
    }

    public static func escaped(_ text: String) -> String {
        var out = ""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            // XML 1.0 forbids most control characters even escaped; track names from files may hold them.
            case _ where scalar.value < 0x20 && scalar != "\t" && scalar != "\n" && scalar != "\r": continue
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    private static func classAttribute(_ name: String?) -> String {
        name.map { " class=\"\($0)\"" } ?? ""
    }
}
