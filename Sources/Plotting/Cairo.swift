import CCairo
import Foundation

/// The file formats a ``Figure`` is written in.
public enum FigureFormat: String, CaseIterable, Sendable {
    /// Scalable Vector Graphics, written by ``SVGWriter``.
    case svg
    /// PDF (vector), drawn by Cairo: what a paper includes.
    case pdf
    /// PNG (raster, ``CairoCanvas/pngScale`` pixels per SVG pixel), drawn by Cairo.
    case png
}

/// A figure that could not be written: the file and what went wrong (Cairo's status, or the
/// file system's error).
public struct FigureWriteError: Error, CustomStringConvertible {
    /// The file being written.
    public let path: String
    /// Why it failed.
    public let reason: String
    /// "PATH: cannot write (REASON)".
    public var description: String { "\(path): cannot write (\(reason))" }
}

/// The Cairo back end of ``Canvas``: a PDF or PNG file drawn from the same calls as the SVG.
/// Every Cairo status is checked: a failure (an unwritable file, no memory) is a
/// ``FigureWriteError`` from ``init(path:format:width:height:title:)`` or ``finish()``.
public final class CairoCanvas: Canvas {
    /// PNG pixels per SVG pixel: twice the SVG's size, sharp on screens and in slides.
    public static let pngScale = 2.0
    let path: String
    let format: FigureFormat
    let surface: OpaquePointer
    let cr: OpaquePointer
    /// The markers painted so far (tests compare them with the SVG's).
    public private(set) var markersDrawn = 0

    /// A canvas of `width` × `height` SVG pixels writing `path` as `format` (`.pdf` or `.png`):
    /// a PDF page of that many points, or a PNG of ``pngScale`` times as many pixels.
    public init(path: String, format: FigureFormat, width: Double, height: Double, title: String) throws {
        precondition(format != .svg, "SVG is written by SVGWriter")
        self.path = path
        self.format = format
        let s: OpaquePointer?
        if format == .pdf {
            s = cairo_pdf_surface_create(path, width, height)
        } else {
            s = cairo_image_surface_create(
                CAIRO_FORMAT_ARGB32, Int32((width * Self.pngScale).rounded(.up)),
                Int32((height * Self.pngScale).rounded(.up)))
        }
        // Cairo returns an error surface (never nil) whose status says why.
        guard let s else { throw FigureWriteError(path: path, reason: "Cairo made no surface") }
        let status = cairo_surface_status(s)
        guard status == CAIRO_STATUS_SUCCESS else {
            cairo_surface_destroy(s)
            throw FigureWriteError(path: path, reason: String(cString: cairo_status_to_string(status)))
        }
        guard let c = cairo_create(s) else {
            cairo_surface_destroy(s)
            throw FigureWriteError(path: path, reason: "Cairo made no context")
        }
        surface = s
        cr = c
        try check(cairo_status(cr))
        if format == .pdf {
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_TITLE, title)
            cairo_pdf_surface_set_metadata(surface, CAIRO_PDF_METADATA_CREATOR, "wgf plot")
        } else {
            cairo_scale(cr, Self.pngScale, Self.pngScale)
        }
        // The SVG's white background.
        cairo_set_source_rgb(cr, 1, 1, 1)
        cairo_paint(cr)
        cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND)
    }

    deinit {
        cairo_destroy(cr)
        cairo_surface_destroy(surface)
    }

    func check(_ status: cairo_status_t) throws {
        guard status == CAIRO_STATUS_SUCCESS else {
            throw FigureWriteError(path: path, reason: String(cString: cairo_status_to_string(status)))
        }
    }

    /// Ends the drawing and writes the file: the PDF is completed, the PNG encoded.
    public func finish() throws {
        try check(cairo_status(cr))
        cairo_surface_flush(surface)
        if format == .png {
            try check(cairo_surface_write_to_png(surface, path))
        } else {
            cairo_surface_finish(surface)
        }
        try check(cairo_surface_status(surface))
    }

    // MARK: drawing

    /// `#rgb` or `#rrggbb` as components in 0...1 (black for anything else).
    static func rgb(_ color: String) -> (Double, Double, Double) {
        var hex = color.hasPrefix("#") ? String(color.dropFirst()) : color
        if hex.count == 3 { hex = hex.map { "\($0)\($0)" }.joined() }
        guard hex.count == 6, let v = UInt32(hex, radix: 16) else { return (0, 0, 0) }
        return (Double(v >> 16 & 0xff) / 255, Double(v >> 8 & 0xff) / 255, Double(v & 0xff) / 255)
    }

    func source(_ color: String, _ alpha: Double?) {
        let (r, g, b) = Self.rgb(color)
        cairo_set_source_rgba(cr, r, g, b, alpha ?? 1)
    }

    func stroke(_ s: Stroke, alpha: Double? = nil) {
        source(s.color, s.opacity ?? alpha)
        cairo_set_line_width(cr, s.width)
        let dashes = (s.dash ?? "").split(separator: " ").compactMap { Double($0) }
        cairo_set_dash(cr, dashes, Int32(dashes.count), 0)
        cairo_stroke(cr)
    }

    func path(_ points: [Point], close: Bool) {
        guard let first = points.first else { return }
        cairo_move_to(cr, first.x, first.y)
        for p in points.dropFirst() { cairo_line_to(cr, p.x, p.y) }
        if close { cairo_close_path(cr) }
    }

    /// Paints `d` with Cairo.
    public func draw(_ d: Drawing) {
        switch d {
        case .line(let a, let b, let s, _):
            path([a, b], close: false)
            stroke(s)
        case .rect(let r, let fill, let fillOpacity, let s, _):
            if let fill {
                cairo_rectangle(cr, r.x, r.y, max(0, r.width), max(0, r.height))
                source(fill, fillOpacity)
                cairo_fill(cr)
            }
            if let s {
                cairo_rectangle(cr, r.x, r.y, max(0, r.width), max(0, r.height))
                stroke(s)
            }
        case .polyline(let points, let s, _):
            path(points, close: false)
            stroke(s)
        case .polygon(let points, let fill, let fillOpacity, let s):
            path(points, close: true)
            source(fill, fillOpacity)
            cairo_fill(cr)
            if let s {
                path(points, close: true)
                stroke(s)
            }
        case .segments(let ends, let s):
            for k in stride(from: 0, to: ends.count - 1, by: 2) {
                cairo_move_to(cr, ends[k].x, ends[k].y)
                cairo_line_to(cr, ends[k + 1].x, ends[k + 1].y)
            }
            stroke(s)
        case .circle(let c, let r, let fill, let strokeColor, let opacity):
            cairo_new_sub_path(cr)
            cairo_arc(cr, c.x, c.y, r, 0, 2 * Double.pi)
            source(fill, opacity)
            if let strokeColor {
                cairo_fill_preserve(cr)
                stroke(Stroke(strokeColor))
            } else {
                cairo_fill(cr)
            }
        case .marker(let p, let size, let style, let opacity):
            marker(p, size: size, style: style, opacity: opacity)
        case .text(let p, let s, let style):
            text(p, s, style)
        case .beginGroup, .endGroup:
            break
        case .beginClip(let r):
            cairo_save(cr)
            cairo_rectangle(cr, r.x, r.y, r.width, r.height)
            cairo_clip(cr)
        case .endClip:
            cairo_restore(cr)
        }
    }

    /// The SVG writer's marker shapes, the same sizes.
    func marker(_ p: Point, size: Double, style: SeriesStyle, opacity: Double) {
        let (x, y) = (p.x, p.y)
        var lines = false
        switch style.marker {
        case .circle:
            cairo_new_sub_path(cr)
            cairo_arc(cr, x, y, size, 0, 2 * Double.pi)
        case .square:
            let h = size * 0.886
            cairo_rectangle(cr, x - h, y - h, 2 * h, 2 * h)
        case .triangle:
            let h = size * 1.35
            path([Point(x, y - h), Point(x + h * 0.866, y + h * 0.5), Point(x - h * 0.866, y + h * 0.5)], close: true)
        case .diamond:
            let h = size * 1.25
            path([Point(x, y - h), Point(x + h, y), Point(x, y + h), Point(x - h, y)], close: true)
        case .plus:
            let h = size * 1.3
            path([Point(x - h, y), Point(x + h, y)], close: false)
            path([Point(x, y - h), Point(x, y + h)], close: false)
            lines = true
        case .cross:
            let h = size * 0.95
            path([Point(x - h, y - h), Point(x + h, y + h)], close: false)
            path([Point(x - h, y + h), Point(x + h, y - h)], close: false)
            lines = true
        }
        if lines {
            stroke(Stroke(style.color, width: max(1, size * 0.5)), alpha: opacity)
        } else if style.filled {
            source(style.color, opacity)
            cairo_fill(cr)
        } else {
            stroke(Stroke(style.color, width: max(0.8, size * 0.35)), alpha: opacity)
        }
        markersDrawn += 1
    }

    func text(_ p: Point, _ s: String, _ style: TextStyle) {
        cairo_select_font_face(
            cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, style.bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL)
        cairo_set_font_size(cr, style.size)
        var extents = cairo_text_extents_t()
        cairo_text_extents(cr, s, &extents)
        let dx: Double
        switch style.anchor {
        case .start: dx = 0
        case .middle: dx = -extents.x_advance / 2
        case .end: dx = -extents.x_advance
        }
        cairo_save(cr)
        cairo_translate(cr, p.x, p.y)
        if let r = style.rotate { cairo_rotate(cr, r * Double.pi / 180) }
        cairo_move_to(cr, dx, 0)
        source(style.fill, nil)
        cairo_show_text(cr, s)
        cairo_restore(cr)
    }
}

extension Figure {
    /// Writes the figure to `path` as `format`.
    ///
    /// - Throws: ``FigureWriteError`` when the file cannot be written or Cairo fails.
    public func write(to path: String, format: FigureFormat) throws {
        if format == .svg {
            do { try Data(svg().utf8).write(to: URL(fileURLWithPath: path)) } catch {
                throw FigureWriteError(path: path, reason: error.localizedDescription)
            }
            return
        }
        let canvas = try CairoCanvas(path: path, format: format, width: width, height: height, title: title)
        replay(on: canvas)
        try canvas.finish()
    }
}
