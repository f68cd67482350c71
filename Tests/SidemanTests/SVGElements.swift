import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing

/// An SVG file's elements (name and attributes, in document order); fails the test on malformed XML.
final class SVGElements: NSObject, XMLParserDelegate {
    private(set) var elements: [(name: String, attributes: [String: String])] = []

    static func read(_ path: String) throws -> SVGElements {
        let parser = XMLParser(data: try Data(contentsOf: URL(fileURLWithPath: path)))
        let collector = SVGElements()
        parser.delegate = collector
        let ok = parser.parse()
        try #require(ok, "\(path) is not well-formed XML: \(String(describing: parser.parserError))")
        return collector
    }

    func parser(_ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?, attributes: [String: String] = [:]) {
        elements.append((name, attributes))
    }

    func withClass(_ name: String) -> [[String: String]] {
        elements.filter { ($0.attributes["class"] ?? "").split(separator: " ").contains(Substring(name)) }.map(\.attributes)
    }
}
