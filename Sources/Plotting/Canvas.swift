import Foundation

/// A stroke: colour (`#rrggbb`), width in pixels, dash pattern ("7 4", nil for solid) and
/// opacity (nil for opaque).
public struct Stroke: Sendable {
    /// `#rrggbb` (or `#rgb`).
    public var color: String
    /// The line's width in pixels.
    public var width: Double
    /// Dash and gap lengths in pixels, space-separated ("7 4"); nil for a solid line.
    public var dash: String?
    /// The stroke's opacity in 0...1; nil for opaque.
    public var opacity: Double?
    /// A stroke; see the properties.
    public init(_ color: String, width: Double = 1, dash: String? = nil, opacity: Double? = nil) {
        self.color = color
        self.width = width
        self.dash = dash
        self.opacity = opacity
    }
}

/// How a text is set: size in pixels, which of its points is the anchor, weight, rotation
/// (degrees about the anchor), colour and class.
public struct TextStyle: Sendable {
    /// The font size in pixels.
    public var size: Double
    /// Which point of the text its position is.
    public var anchor: Anchor
    /// Bold rather than regular.
    public var bold: Bool
    /// Degrees clockwise about the anchor (-90: reading upwards); nil for none.
    public var rotate: Double?
    /// The text's colour.
    public var fill: String
    /// A class name for the SVG (`title`, `tick-label`, ...).
    public var cls: String?
}

/// Which point of a text its position is: its start, middle or end.
public enum Anchor: String, Sendable {
    /// The text starts at its position.
    case start
    /// The text is centred on its position.
    case middle
    /// The text ends at its position.
    case end
}

/// One thing drawn. A figure is a list of these, replayed onto a back end (``SVGWriter``,
/// ``CairoCanvas``) or kept by a ``Figure`` to be counted.
public enum Drawing: Sendable {
    /// A segment between two points.
    case line(Point, Point, Stroke, cls: String?)
    /// A rectangle: fill (nil for none) and its opacity, an outline when `stroke` is given.
    case rect(Rect, fill: String?, fillOpacity: Double?, stroke: Stroke?, cls: String?)
    /// An open line through the points.
    case polyline([Point], Stroke, cls: String?)
    /// A closed polygon filled with `fill` at `fillOpacity`, outlined when `stroke` is given.
    case polygon([Point], fill: String, fillOpacity: Double, stroke: Stroke?)
    /// Separate line segments in one stroke (contour lines).
    case segments([Point], Stroke)
    /// A filled circle (outlined in `stroke` when given), `opacity` the fill's.
    case circle(Point, radius: Double, fill: String, stroke: String?, opacity: Double?)
    /// A series' marker; `size` is the radius of the circle of the same area.
    case marker(Point, size: Double, style: SeriesStyle, opacity: Double)
    /// Text with its baseline at the point.
    case text(Point, String, TextStyle)
    /// A group with a class name and attributes (`data-…`) that tests and stylesheets select.
    case beginGroup(cls: String, attributes: [(String, String)])
    /// Ends the innermost group.
    case endGroup
    /// What follows until the matching ``endClip`` is clipped to the rectangle.
    case beginClip(Rect)
    /// Ends the innermost clip.
    case endClip
}

/// Where figures are drawn: one call per ``Drawing``. The methods of the extension are what
/// figure code calls.
public protocol Canvas: AnyObject {
    /// Draws `d`.
    func draw(_ d: Drawing)
}

extension Canvas {
    /// A `<g class="cls">` with `extra` attributes around what `content` draws.
    public func group(_ cls: String, _ extra: [(String, String)] = [], _ content: () -> Void) {
        draw(.beginGroup(cls: cls, attributes: extra))
        content()
        draw(.endGroup)
    }

    /// What `content` draws, clipped to `r`.
    public func clipped(to r: Rect, _ content: () -> Void) {
        draw(.beginClip(r))
        content()
        draw(.endClip)
    }

    /// A line segment from (x1, y1) to (x2, y2); `dash` is a dash pattern, `cls` a class name.
    public func line(
        _ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, stroke: String = "#000", width: Double = 1,
        dash: String? = nil, cls: String? = nil
    ) {
        draw(.line(Point(x1, y1), Point(x2, y2), Stroke(stroke, width: width, dash: dash), cls: cls))
    }

    /// A rectangle; the outline only with a `stroke` colour, `opacity` the fill's.
    public func rect(
        _ r: Rect, fill: String = "none", stroke: String? = nil, width: Double = 1, dash: String? = nil,
        opacity: Double? = nil, cls: String? = nil
    ) {
        draw(
            .rect(
                r, fill: fill == "none" ? nil : fill, fillOpacity: opacity,
                stroke: stroke.map { Stroke($0, width: width, dash: dash) }, cls: cls))
    }

    /// A polyline through `points` (nothing for fewer than two). A path that jumps across a
    /// periodic box is drawn by the caller as several polylines.
    public func polyline(
        _ points: [Point], stroke: String, width: Double = 1.5, dash: String? = nil, opacity: Double? = nil,
        cls: String? = nil
    ) {
        guard points.count >= 2 else { return }
        draw(.polyline(points, Stroke(stroke, width: width, dash: dash, opacity: opacity), cls: cls))
    }

    /// A filled polygon (nothing for fewer than three points).
    public func polygon(
        _ points: [Point], fill: String, fillOpacity: Double = 1, stroke: String? = nil, width: Double = 1,
        dash: String? = nil
    ) {
        guard points.count >= 3 else { return }
        draw(
            .polygon(
                points, fill: fill, fillOpacity: fillOpacity,
                stroke: stroke.map { Stroke($0, width: width, dash: dash) }))
    }

    /// Line segments `pairs` in one stroke.
    public func segments(_ pairs: [(Point, Point)], stroke: String, width: Double = 1) {
        guard !pairs.isEmpty else { return }
        draw(.segments(pairs.flatMap { [$0.0, $0.1] }, Stroke(stroke, width: width)))
    }

    /// A circle of radius `r` centred at (cx, cy); `opacity` is the fill's.
    public func circle(
        _ cx: Double, _ cy: Double, _ r: Double, fill: String, stroke: String? = nil, opacity: Double? = nil
    ) {
        draw(.circle(Point(cx, cy), radius: r, fill: fill, stroke: stroke, opacity: opacity))
    }

    /// A marker of `style` centred at (x, y); `size` is the radius of the circle of the same area.
    public func marker(_ x: Double, _ y: Double, size: Double, style: SeriesStyle, opacity: Double = 0.8) {
        draw(.marker(Point(x, y), size: size, style: style, opacity: opacity))
    }

    /// Text `s` with its baseline at y, `rotate` degrees about (x, y).
    public func text(
        _ x: Double, _ y: Double, _ s: String, size: Double = 12, anchor: Anchor = .start, bold: Bool = false,
        rotate: Double? = nil, fill: String = "#222", cls: String? = nil
    ) {
        draw(
            .text(
                Point(x, y), s, TextStyle(size: size, anchor: anchor, bold: bold, rotate: rotate, fill: fill, cls: cls))
        )
    }
}

/// A figure kept as what it draws: made once, then written as SVG, PDF or PNG, and counted
/// by tests.
public final class Figure: Canvas {
    /// The size in pixels (SVG user units; points in a PDF).
    public let width: Double, height: Double
    /// The document's title (SVG `<title>`, PDF title).
    public var title = ""
    /// Everything drawn, in order.
    public private(set) var drawings: [Drawing] = []

    /// An empty figure of the given size.
    public init(width: Double, height: Double) {
        self.width = width
        self.height = height
    }

    /// Keeps `d`.
    public func draw(_ d: Drawing) { drawings.append(d) }

    /// Draws the figure onto `canvas`.
    public func replay(on canvas: some Canvas) { for d in drawings { canvas.draw(d) } }

    /// The figure as an SVG document.
    public func svg() -> String {
        let w = SVGWriter(width: width, height: height)
        replay(on: w)
        return w.render(title: title)
    }

    /// The number of markers drawn (particles, metric points, legend samples).
    public var markerCount: Int {
        drawings.reduce(0) {
            if case .marker = $1 { return $0 + 1 }
            return $0
        }
    }
}
