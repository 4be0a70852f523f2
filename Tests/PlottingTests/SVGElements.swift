import Foundation
import XCTest

#if canImport(FoundationXML)
    import FoundationXML
#endif

/// Every element of an SVG document in order, with its attributes, its text and the classes
/// of the groups around it: what geometric tests read the drawing back from.
final class SVGElements: NSObject, XMLParserDelegate {
    struct Element {
        var tag: String
        var attributes: [String: String]
        var text = ""
        /// The classes of the element and of every element around it.
        var classes: Set<String>
        func number(_ name: String) -> Double? { attributes[name].flatMap(Double.init) }
    }
    var elements: [Element] = []
    private var open: [Int] = []
    private var error: Error?

    static func parse(_ svg: String) throws -> SVGElements {
        let e = SVGElements()
        let p = XMLParser(data: Data(svg.utf8))
        p.delegate = e
        guard p.parse() else { throw p.parserError ?? NSError(domain: "svg", code: 1) }
        return e
    }

    func parser(
        _ parser: XMLParser, didStartElement name: String, namespaceURI: String?, qualifiedName: String?,
        attributes a: [String: String] = [:]
    ) {
        var classes = open.last.map { elements[$0].classes } ?? []
        for c in (a["class"] ?? "").split(separator: " ") { classes.insert(String(c)) }
        elements.append(Element(tag: name, attributes: a, classes: classes))
        open.append(elements.count - 1)
    }
    func parser(_ parser: XMLParser, foundCharacters string: String) {
        if let k = open.last { elements[k].text += string }
    }
    func parser(_ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?) {
        open.removeLast()
    }

    /// The elements with class `cls` (on them or on a group around them).
    func within(_ cls: String, tag: String? = nil) -> [Element] {
        elements.filter { $0.classes.contains(cls) && (tag == nil || $0.tag == tag) }
    }

    /// A tick label: its anchor point and the number it reads.
    struct Tick {
        var x: Double, y: Double, value: Double
    }

    /// The bottom (x) axis tick labels, centred under their ticks, and the left (y) axis ones,
    /// right-aligned: the numbers as written, so a test compares the drawing with the labels a
    /// reader sees. Labels that are not plain decimals (10⁻³) are left out.
    func ticks() -> (x: [Tick], y: [Tick]) {
        var xs: [Tick] = []
        var ys: [Tick] = []
        for e in elements where e.tag == "text" && e.attributes["class"] == "tick-label" {
            guard let x = e.number("x"), let y = e.number("y"), let v = Double(e.text) else { continue }
            switch e.attributes["text-anchor"] {
            case "middle": xs.append(Tick(x: x, y: y, value: v))
            case "end": ys.append(Tick(x: x, y: y, value: v))
            default: break
            }
        }
        return (xs, ys)
    }

    /// Data units per pixel of the first panel's axes, read from two tick labels on each (the
    /// leftmost panel's y labels; the x labels of the bottom row's first panel).
    func unitsPerPixel(file: StaticString = #filePath, line: UInt = #line) throws -> (x: Double, y: Double) {
        let (xt, yt) = ticks()
        let bottom = try XCTUnwrap(xt.map(\.y).max(), "x tick labels", file: file, line: line)
        let row = xt.filter { abs($0.y - bottom) < 0.5 }.sorted { $0.x < $1.x }
        let leftmost = try XCTUnwrap(yt.map(\.x).min(), "y tick labels", file: file, line: line)
        let column = yt.filter { abs($0.x - leftmost) < 0.5 }.sorted { $0.y < $1.y }
        XCTAssertGreaterThanOrEqual(row.count, 2, file: file, line: line)
        XCTAssertGreaterThanOrEqual(column.count, 2, file: file, line: line)
        guard row.count >= 2, column.count >= 2 else { return (.nan, .nan) }
        // Neighbouring labels of the first panel (the next panel's first label may follow).
        let ux = (row[1].value - row[0].value) / (row[1].x - row[0].x)
        let top = column[0]
        let bottomLabel = column[column.count - 1]
        let uy = (top.value - bottomLabel.value) / (bottomLabel.y - top.y)
        return (ux, uy)
    }
}
