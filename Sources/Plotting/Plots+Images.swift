import Foundation

/// The particles as images: when the scenario says its coordinates are the pixels of an image
/// (`[plot] image = [w, h]`, d = w·h, row by row from the top left), the last record's
/// particles drawn as w × h grayscale tiles, beside as many of the target's samples.
extension RunPlots {
    /// The image figure as an SVG document; nil when the run has no image shape.
    public func images() throws -> String? { try imagesDrawing()?.svg() }

    /// The tiles of the last record's first population (at most ``maxImageTiles``), and of the
    /// target's samples when the scenario has some, as a ``Figure``. One intensity scale for
    /// both panels: [lo, hi] the range of the target's samples (else of the tiles drawn), lo
    /// black and hi white, linear between and clamped outside (a particle beyond the data's
    /// range saturates). Nil when the scenario gives no image shape or it does not match d.
    public func imagesDrawing() throws -> Figure? {
        guard let t = trajectory, let shape = context.imageShape, shape.width * shape.height == t.dimension,
            t.recordCount > 0
        else { return nil }
        let d = t.dimension
        let f = try t.frame(t.recordCount - 1)
        guard let p = f.populations.first else { return nil }
        let generated = Array(p.positions.prefix(min(p.count, maxImageTiles) * d))
        let reference = Array((context.referenceSamples ?? []).prefix(maxImageTiles * d))
        let panels = [("\(p.name), step \(f.step)", generated), ("target samples", reference)].filter {
            !$0.1.isEmpty
        }
        let scaleSource = reference.isEmpty ? generated : reference
        let lo = scaleSource.filter(\.isFinite).min() ?? 0
        let hi = scaleSource.filter(\.isFinite).max() ?? 1
        // Pixels of about 40 / max(w, h) points: an 8×8 tile is 40 points wide.
        let pixel = max(1, (40 / Double(max(shape.width, shape.height))).rounded())
        let tile = (w: Double(shape.width) * pixel, h: Double(shape.height) * pixel)
        let gap = 3.0
        let columns = Int(Double(maxImageTiles).squareRoot().rounded(.up))
        let panelWidth = Double(columns) * (tile.w + gap) - gap
        let rows = panels.map { ($0.1.count / d + columns - 1) / columns }
        let panelHeight = Double(rows.max() ?? 1) * (tile.h + gap) - gap
        let left = 24.0
        let between = 36.0
        let width = max(360, left * 2 + Double(panels.count) * panelWidth + Double(panels.count - 1) * between)
        let head = heading(
            "\(shape.width) × \(shape.height) images · N = \(p.count) · intensity \(shortNumber(lo)) black to \(shortNumber(hi)) white",
            width: width)
        let top = 82 + head.extra
        let svg = Figure(width: width, height: top + panelHeight + 24)
        draw(head, on: svg, width: width)
        for (k, panel) in panels.enumerated() {
            let x0 = left + Double(k) * (panelWidth + between)
            svg.text(
                x0 + panelWidth / 2, top - 10, panel.0, size: font + 1, anchor: .middle, cls: "panel-title")
            let count = panel.1.count / d
            svg.group("images", [("data-panel", k == 0 ? "particles" : "target"), ("data-tiles", "\(count)")]) {
                for i in 0..<count {
                    let tx = x0 + Double(i % columns) * (tile.w + gap)
                    let ty = top + Double(i / columns) * (tile.h + gap)
                    svg.group("tile") {
                        svg.rect(Rect(x: tx, y: ty, width: tile.w, height: tile.h), fill: gray(0))
                        for r in 0..<shape.height {
                            for c in 0..<shape.width {
                                let v = panel.1[i * d + r * shape.width + c]
                                let level = hi > lo ? min(1, max(0, (v - lo) / (hi - lo))) : 0
                                // The black ground is drawn once per tile.
                                guard level.isFinite, gray(level) != gray(0) else { continue }
                                svg.rect(
                                    Rect(
                                        x: tx + Double(c) * pixel, y: ty + Double(r) * pixel, width: pixel,
                                        height: pixel),
                                    fill: gray(level))
                            }
                        }
                    }
                }
            }
        }
        return svg
    }

    /// `#rrggbb` of the gray level `level` in [0, 1] (0 black, 1 white), 256 steps.
    func gray(_ level: Double) -> String {
        let v = String(format: "%02x", Int((255 * level).rounded()))
        return "#\(v)\(v)\(v)"
    }
}
