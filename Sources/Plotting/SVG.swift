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

/// Writes an SVG document as text: the SVG back end of ``Canvas``. Groups carry `class` names
/// (axis, series, legend, contour, threshold, title, ...) that tests and stylesheets can select.
public final class SVGWriter: Canvas {
    /// The document's size in user units (pixels).
    public let width: Double, height: Double
    var body: String = ""
    /// Clip paths so far: each gets its own id.
    var clips = 0

    /// An empty document of the given size.
    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
        body.reserveCapacity(1 << 16)
    }

    /// Appends `s` as it is (already valid SVG): what only SVG can show (SMIL animation).
    public func raw(_ s: String) { body += s }

    func classAttr(_ cls: String?) -> String { cls.map { " class=\"\($0)\"" } ?? "" }
    func strokeAttrs(_ s: Stroke) -> String {
        var a = " stroke=\"\(s.color)\" stroke-width=\"\(fmt(s.width))\""
        if let d = s.dash { a += " stroke-dasharray=\"\(d)\"" }
        if let o = s.opacity { a += " stroke-opacity=\"\(fmt(o))\"" }
        return a
    }
    func pointList(_ points: [Point]) -> String {
        var out = ""
        out.reserveCapacity(points.count * 12)
        for (k, p) in points.enumerated() {
            if k > 0 { out += " " }
            out += fmt(p.x)
            out += ","
            out += fmt(p.y)
        }
        return out
    }

    /// Writes `d` into the document.
    public func draw(_ d: Drawing) {
        switch d {
        case .line(let a, let b, let s, let cls):
            body +=
                "<line\(classAttr(cls)) x1=\"\(fmt(a.x))\" y1=\"\(fmt(a.y))\" x2=\"\(fmt(b.x))\" y2=\"\(fmt(b.y))\"\(strokeAttrs(s))/>\n"
        case .rect(let r, let fill, let fillOpacity, let stroke, let cls):
            body +=
                "<rect\(classAttr(cls)) x=\"\(fmt(r.x))\" y=\"\(fmt(r.y))\" width=\"\(fmt(max(0, r.width)))\" height=\"\(fmt(max(0, r.height)))\" fill=\"\(fill ?? "none")\""
            if let stroke { body += strokeAttrs(stroke) }
            if let fillOpacity { body += " fill-opacity=\"\(fmt(fillOpacity))\"" }
            body += "/>\n"
        case .polyline(let points, let s, let cls):
            body +=
                "<polyline\(classAttr(cls)) fill=\"none\"\(strokeAttrs(s)) stroke-linejoin=\"round\" points=\"\(pointList(points))\"/>\n"
        case .polygon(let points, let fill, let fillOpacity, let stroke):
            body += "<polygon fill=\"\(fill)\" fill-opacity=\"\(fmt(fillOpacity))\""
            body += stroke.map(strokeAttrs) ?? " stroke=\"none\""
            body += " points=\"\(pointList(points))\"/>\n"
        case .segments(let ends, let s):
            var path = ""
            path.reserveCapacity(ends.count * 14)
            for k in stride(from: 0, to: ends.count - 1, by: 2) {
                path += "M\(fmt(ends[k].x)) \(fmt(ends[k].y))L\(fmt(ends[k + 1].x)) \(fmt(ends[k + 1].y))"
            }
            body += "<path d=\"\(path)\" fill=\"none\"\(strokeAttrs(s))/>\n"
        case .circle(let c, let r, let fill, let stroke, let opacity):
            body += "<circle cx=\"\(fmt(c.x))\" cy=\"\(fmt(c.y))\" r=\"\(fmt(r))\" fill=\"\(fill)\""
            if let stroke { body += " stroke=\"\(stroke)\"" }
            if let opacity { body += " fill-opacity=\"\(fmt(opacity))\"" }
            body += "/>\n"
        case .marker(let p, let size, let style, let opacity):
            marker(p.x, p.y, size: size, style: style, opacity: opacity)
        case .text(let p, let s, let style):
            body +=
                "<text\(classAttr(style.cls)) x=\"\(fmt(p.x))\" y=\"\(fmt(p.y))\" font-size=\"\(fmt(style.size))\""
            if style.anchor != .start { body += " text-anchor=\"\(style.anchor.rawValue)\"" }
            if style.bold { body += " font-weight=\"bold\"" }
            if let rotate = style.rotate { body += " transform=\"rotate(\(fmt(rotate)) \(fmt(p.x)) \(fmt(p.y)))\"" }
            if style.fill != "#222" { body += " fill=\"\(style.fill)\"" }
            body += ">\(xmlEscape(s))</text>\n"
        case .beginGroup(let cls, let attributes):
            body += "<g class=\"\(xmlEscape(cls))\""
            for (k, v) in attributes { body += " \(k)=\"\(xmlEscape(v))\"" }
            body += ">\n"
        case .endGroup:
            body += "</g>\n"
        case .beginClip(let r):
            clips += 1
            body +=
                "<clipPath id=\"clip\(clips)\"><rect x=\"\(fmt(r.x))\" y=\"\(fmt(r.y))\" width=\"\(fmt(r.width))\" height=\"\(fmt(r.height))\"/></clipPath>\n<g clip-path=\"url(#clip\(clips))\">\n"
        case .endClip:
            body += "</g>\n"
        }
    }

    func marker(_ x: Double, _ y: Double, size: Double, style: SeriesStyle, opacity: Double) {
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

/// Width estimate of bold text, which sets wider.
func textWidth(_ s: String, size: Double, bold: Bool) -> Double {
    bold ? Double(s.count) * size * 0.62 : textWidth(s, size: size)
}

/// `s` set to fit `width`: one line at `size` if it fits, else (when `lines` allows two) split
/// at the space nearest its middle, and shrunk until the longest line fits (never below 8 px,
/// from which a title would be unreadable: it then overflows rather than vanish).
func fitText(_ s: String, width: Double, size: Double, bold: Bool, lines: Int = 2) -> (lines: [String], size: Double) {
    var parts = [s]
    if textWidth(s, size: size, bold: bold) > width && lines >= 2 {
        let spaces = s.indices.filter { s[$0] == " " }
        let middle = s.count / 2
        if let cut = spaces.min(by: {
            abs(s.distance(from: s.startIndex, to: $0) - middle) < abs(s.distance(from: s.startIndex, to: $1) - middle)
        }) {
            parts = [String(s[..<cut]), String(s[s.index(after: cut)...])]
        }
    }
    let widest = parts.map { textWidth($0, size: size, bold: bold) }.max() ?? 0
    let fitted = widest > width ? max(8, size * width / widest) : size
    return (parts, fitted)
}
