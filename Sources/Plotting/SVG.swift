import Foundation

/// A compact number for SVG attributes: at most two decimals, no trailing zeros.
@inline(__always) func fmt(_ v: Double) -> String {
    guard v.isFinite else { return "0" }
    let r = (v * 100).rounded() / 100
    if r == r.rounded() && abs(r) < 1e15 { return String(Int(r)) }
    var s = String(format: "%.2f", r)
    while s.hasSuffix("0") { s.removeLast() }
    return s
}

/// Escapes text for XML character data and attribute values.
func xmlEscape(_ s: String) -> String {
    var out = ""
    out.reserveCapacity(s.count)
    for c in s {
        switch c {
        case "&": out += "&amp;"
        case "<": out += "&lt;"
        case ">": out += "&gt;"
        case "\"": out += "&quot;"
        case "'": out += "&apos;"
        default: out.append(c)
        }
    }
    return out
}

/// A point in SVG user units (pixels; y grows downwards).
public struct Point: Sendable {
    /// The coordinates, in pixels from the top left.
    public var x, y: Double
    /// The point (x, y).
    public init(_ x: Double, _ y: Double) {
        self.x = x
        self.y = y
    }
}

/// A rectangle in SVG user units.
public struct Rect: Sendable {
    /// The top-left corner and the size.
    public var x, y, width, height: Double
    /// The rectangle with top-left corner (x, y).
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x
        self.y = y
        self.width = width
        self.height = height
    }
    /// The right edge.
    public var maxX: Double { x + width }
    /// The bottom edge.
    public var maxY: Double { y + height }
}

/// Marker shapes, distinguishable without colour.
public enum MarkerShape: Sendable, CaseIterable { case circle, square, triangle, diamond, plus, cross }

/// How one series is drawn: colour, dash pattern and marker, chosen so that series stay
/// distinct in greyscale (different luminance, dashes, shapes, filled or hollow).
public struct SeriesStyle: Sendable {
    /// The stroke and fill colour, `#rrggbb`.
    public var color: String
    /// An SVG `stroke-dasharray` ("7 4"); nil for a solid line.
    public var dash: String?
    /// The marker's shape.
    public var marker: MarkerShape
    /// A filled marker, or a hollow one drawn by its outline.
    public var filled: Bool

    /// The greyscale-safe palette: luminance alternates dark/light, each entry has its own
    /// dash pattern and marker.
    public static let palette: [SeriesStyle] = [
        SeriesStyle(color: "#1f3b73", dash: nil, marker: .circle, filled: true),
        SeriesStyle(color: "#e08a00", dash: "7 4", marker: .square, filled: false),
        SeriesStyle(color: "#b2182b", dash: "2 3", marker: .triangle, filled: true),
        SeriesStyle(color: "#41ab5d", dash: "9 3 2 3", marker: .diamond, filled: false),
        SeriesStyle(color: "#6a3d9a", dash: "4 2", marker: .plus, filled: true),
        SeriesStyle(color: "#7f7f7f", dash: "1 2", marker: .cross, filled: true),
    ]
    /// The style of series `i`: the palette, repeated (any integer, negative included).
    public static func at(_ i: Int) -> SeriesStyle { palette[((i % palette.count) + palette.count) % palette.count] }
}

/// Builds an SVG document as text. Elements carry `class` names (axis, series, legend,
/// contour, threshold, title, ...) that tests and stylesheets can select.
public final class SVGWriter {
    /// The document's size in user units (pixels).
    public let width: Double, height: Double
    var body: String = ""

    /// An empty document of the given size.
    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
        body.reserveCapacity(1 << 16)
    }

    /// Appends `s` as it is (already valid SVG).
    public func raw(_ s: String) { body += s }

    /// Opens element `tag` with `attributes` (values escaped); ``close(_:)`` ends it.
    public func open(_ tag: String, _ attributes: [(String, String)] = []) {
        body += "<\(tag)"
        for (k, v) in attributes { body += " \(k)=\"\(xmlEscape(v))\"" }
        body += ">\n"
    }
    /// Closes element `tag`.
    public func close(_ tag: String) { body += "</\(tag)>\n" }

    /// A `<g class="cls">` with `extra` attributes around what `content` draws.
    public func group(_ cls: String, _ extra: [(String, String)] = [], _ content: () -> Void) {
        open("g", [("class", cls)] + extra)
        content()
        close("g")
    }

    func dashAttr(_ dash: String?) -> String { dash.map { " stroke-dasharray=\"\($0)\"" } ?? "" }

    /// A line segment from (x1, y1) to (x2, y2); `dash` is a `stroke-dasharray`, `cls` a class name.
    public func line(
        _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#000", width: Double = 1,
        dash: String? = nil, cls: String? = nil
    ) {
        body +=
            "<line\(cls.map { " class=\"\($0)\"" } ?? "") x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\"\(dashAttr(dash))/>\n"
    }

    /// A rectangle; the stroke only with a `stroke` colour, `opacity` the fill's.
    public func rect(
        _ r: Rect, fill: String = "none", stroke: String? = nil, width: Double = 1, dash: String? = nil,
        opacity: Double? = nil, cls: String? = nil
    ) {
        body +=
            "<rect\(cls.map { " class=\"\($0)\"" } ?? "") x=\"\(fmt(r.x))\" y=\"\(fmt(r.y))\" width=\"\(fmt(max(0, r.width)))\" height=\"\(fmt(max(0, r.height)))\" fill=\"\(fill)\""
        if let stroke { body += " stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\"\(dashAttr(dash))" }
        if let opacity { body += " fill-opacity=\"\(fmt(opacity))\"" }
        body += "/>\n"
    }

    /// A polyline through `points` (nothing for fewer than two). A path that jumps across a
    /// periodic box is drawn by the caller as several polylines.
    public func polyline(
        _ points: [Point], stroke: String, width: Double = 1.5, dash: String? = nil, opacity: Double? = nil,
        cls: String? = nil
    ) {
        guard points.count >= 2 else { return }
        body +=
            "<polyline\(cls.map { " class=\"\($0)\"" } ?? "") fill=\"none\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\"\(dashAttr(dash))"
        if let opacity { body += " stroke-opacity=\"\(fmt(opacity))\"" }
        body += " stroke-linejoin=\"round\" points=\""
        for (k, p) in points.enumerated() {
            if k > 0 { body += " " }
            body += fmt(p.x)
            body += ","
            body += fmt(p.y)
        }
        body += "\"/>\n"
    }

    /// A path with SVG path data `d` (not escaped).
    public func path(
        _ d: String, stroke: String, width: Double = 1, dash: String? = nil, fill: String = "none", cls: String? = nil
    ) {
        body +=
            "<path\(cls.map { " class=\"\($0)\"" } ?? "") d=\"\(d)\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"\(fmt(width))\"\(dashAttr(dash))/>\n"
    }

    /// A circle of radius `r` centred at (cx, cy); `opacity` is the fill's.
    public func circle(
        _ cx: Double, _ cy: Double, _ r: Double, fill: String, stroke: String? = nil, opacity: Double? = nil
    ) {
        body += "<circle cx=\"\(fmt(cx))\" cy=\"\(fmt(cy))\" r=\"\(fmt(r))\" fill=\"\(fill)\""
        if let stroke { body += " stroke=\"\(stroke)\"" }
        if let opacity { body += " fill-opacity=\"\(fmt(opacity))\"" }
        body += "/>\n"
    }

    /// A marker of `style` centred at (x, y); `size` is the radius of the circle of the same area.
    public func marker(_ x: Double, _ y: Double, size: Double, style: SeriesStyle, opacity: Double = 0.8) {
        let fill = style.filled ? style.color : "none"
        let strokeW = style.filled ? 0.0 : max(0.8, size * 0.35)
        let strokeAttr = style.filled ? "" : " stroke=\"\(style.color)\" stroke-width=\"\(fmt(strokeW))\""
        let op = " opacity=\"\(fmt(opacity))\""
        switch style.marker {
        case .circle:
            body +=
                "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"\(fmt(size))\" fill=\"\(fill)\"\(strokeAttr)\(op)/>\n"
        case .square:
            let h = size * 0.886
            body +=
                "<rect x=\"\(fmt(x - h))\" y=\"\(fmt(y - h))\" width=\"\(fmt(2 * h))\" height=\"\(fmt(2 * h))\" fill=\"\(fill)\"\(strokeAttr)\(op)/>\n"
        case .triangle:
            let h = size * 1.35
            body +=
                "<path d=\"M\(fmt(x)) \(fmt(y - h))L\(fmt(x + h * 0.866)) \(fmt(y + h * 0.5))L\(fmt(x - h * 0.866)) \(fmt(y + h * 0.5))Z\" fill=\"\(fill)\"\(strokeAttr)\(op)/>\n"
        case .diamond:
            let h = size * 1.25
            body +=
                "<path d=\"M\(fmt(x)) \(fmt(y - h))L\(fmt(x + h)) \(fmt(y))L\(fmt(x)) \(fmt(y + h))L\(fmt(x - h)) \(fmt(y))Z\" fill=\"\(fill)\"\(strokeAttr)\(op)/>\n"
        case .plus:
            let h = size * 1.3
            body +=
                "<path d=\"M\(fmt(x - h)) \(fmt(y))H\(fmt(x + h))M\(fmt(x)) \(fmt(y - h))V\(fmt(y + h))\" fill=\"none\" stroke=\"\(style.color)\" stroke-width=\"\(fmt(max(1, size * 0.5)))\"\(op)/>\n"
        case .cross:
            let h = size * 0.95
            body +=
                "<path d=\"M\(fmt(x - h)) \(fmt(y - h))L\(fmt(x + h)) \(fmt(y + h))M\(fmt(x - h)) \(fmt(y + h))L\(fmt(x + h)) \(fmt(y - h))\" fill=\"none\" stroke=\"\(style.color)\" stroke-width=\"\(fmt(max(1, size * 0.5)))\"\(op)/>\n"
        }
    }

    /// Which point of the text (x, y) is: its start, middle or end (`text-anchor`).
    public enum Anchor: String { case start, middle, end }

    /// Text `s` (escaped) with its baseline at y, `rotate` degrees about (x, y).
    public func text(
        _ x: Double, _ y: Double, _ s: String, size: Double = 12, anchor: Anchor = .start, bold: Bool = false,
        rotate: Double? = nil, fill: String = "#222", cls: String? = nil
    ) {
        body +=
            "<text\(cls.map { " class=\"\($0)\"" } ?? "") x=\"\(fmt(x))\" y=\"\(fmt(y))\" font-size=\"\(fmt(size))\""
        if anchor != .start { body += " text-anchor=\"\(anchor.rawValue)\"" }
        if bold { body += " font-weight=\"bold\"" }
        if let rotate { body += " transform=\"rotate(\(fmt(rotate)) \(fmt(x)) \(fmt(y)))\"" }
        if fill != "#222" { body += " fill=\"\(fill)\"" }
        body += ">\(xmlEscape(s))</text>\n"
    }

    /// The whole document.
    public func render(title: String) -> String {
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" viewBox=\"0 0 \(fmt(width)) \(fmt(height))\" font-family=\"Helvetica, Arial, sans-serif\">\n"
            + "<title>\(xmlEscape(title))</title>\n"
            + "<rect class=\"background\" x=\"0\" y=\"0\" width=\"\(fmt(width))\" height=\"\(fmt(height))\" fill=\"#ffffff\"/>\n"
            + body + "</svg>\n"
    }
}

/// Approximate width of a label in pixels (Helvetica-like average advance).
func textWidth(_ s: String, size: Double) -> Double { Double(s.count) * size * 0.56 }
