import KernelSum

/// `energy-distance`: Székely's energy distance between the first population (with its
/// weights) and M samples of the target drawn once (`energy-distance-samples`), or the M rows
/// of a CSV file (`energy-distance-reference`, header `x1,...,xd`: held-out data, the measure
/// of a generative flow),
///
///     E(μ, ν) = 2 E|X − Y| − E|X − X'| − E|Y − Y'|   (V-statistics),
///
/// the MMD² of the Riesz kernel k(x) = −|x| (``MMDMetric`` with `riesz:r=1`, squared: the
/// quantity the MMD flows of Hertrich et al. descend). GeomLoss's `SamplesLoss("energy")` is
/// half of it.
enum EnergyDistanceMetric {
    static let entry = MetricEntry(
        name: "energy-distance",
        summary:
            "energy distance 2E|X−Y| − E|X−X'| − E|Y−Y'| to a fixed target sample (energy-distance-samples) or a file's rows (energy-distance-reference)"
    ) { s, ctx in
        try MMDMetric.make(
            s, ctx, name: "energy-distance", kernel: RieszKernel(r: 1), samplesKey: "energy-distance-samples",
            squared: true, referenceKey: "energy-distance-reference")
    }
}
