import Foundation

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// An SVG's elements (name and attributes, in document order) and the text of its `<text>` elements, read
/// with Foundation's XML parser so that malformed XML fails the test.
public final class SVGDocument: NSObject, XMLParserDelegate {
    public private(set) var elements: [(name: String, attributes: [String: String])] = []
    public private(set) var texts: [String] = []
    private var current = ""

    public static func parse(_ svg: String) throws -> SVGDocument { try parse(Data(svg.utf8), what: "the SVG") }

    public static func read(_ path: String) throws -> SVGDocument {
        try parse(Data(contentsOf: URL(fileURLWithPath: path)), what: path)
    }

    private static func parse(_ data: Data, what: String) throws -> SVGDocument {
        let parser = XMLParser(data: data)
        let document = SVGDocument()
        parser.delegate = document
        guard parser.parse() else {
            throw ProgramError("\(what) is not well-formed XML: \(String(describing: parser.parserError))")
        }
        return document
    }

    /// Attributes of the elements whose `class` lists `name` among its space-separated classes.
    public func withClass(_ name: String) -> [[String: String]] {
        elements.filter { ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(name)) }.map(\.attributes)
    }

    public func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes: [String: String] = [:]
    ) {
        elements.append((name, attributes))
        current = ""
    }

    public func parser(_ parser: XMLParser, foundCharacters string: String) { current += string }

    public func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        if name == "text" { texts.append(current) }
        current = ""
    }
}
