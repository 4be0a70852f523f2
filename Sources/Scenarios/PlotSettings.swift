import Flows

/// `[plot]`: how `wgf plot` shows the particles (nothing of the run depends on it).
///
/// - `image = [w, h]`: the d = w·h coordinates are the pixels of a w × h image, row by row from
///   the top left; `wgf plot` then draws the particles as grayscale tiles (`images.svg`).
extension ScenarioLoader {
    /// An image's sides: integers from 1 to the largest dimension.
    static let imageSide = Allowed<Double>("an integer from 1 to \(MemoryEstimate.maximumDimension) (pixels)") {
        $0 >= 1 && $0 <= Double(MemoryEstimate.maximumDimension) && $0 == $0.rounded()
    }

    /// Checks `[plot]` (when given) against the particles' dimension d: the image shape, or nil.
    static func readPlotTable(_ root: ScenarioTable, dimension d: Int) throws -> (width: Int, height: Int)? {
        guard let plot = try root.optionalTable("plot") else { return nil }
        guard plot.contains("image") else { return nil }
        let sides = try plot.reals("image", count: 2, imageSide)
        let (w, h) = (Int(sides[0]), Int(sides[1]))
        guard w * h == d else {
            throw plot.fail("image", "\(w) × \(h) = \(w * h) pixels, but the particles have d = \(d) coordinates")
        }
        return (w, h)
    }

    /// `[plot] image` of a resolved scenario read raw (for `wgf plot`): nil when absent or not
    /// two positive integers.
    static func rawImageShape(_ root: ScenarioTable) -> (width: Int, height: Int)? {
        guard case .table(let items)? = root.raw("plot"),
            case .array(let sides)? = items.first(where: { $0.0 == "image" })?.1, sides.count == 2,
            let w = sides[0].asReal, let h = sides[1].asReal, imageSide.test(w), imageSide.test(h)
        else { return nil }
        return (Int(w), Int(h))
    }
}
