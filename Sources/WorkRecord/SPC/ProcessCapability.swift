/// How well a point's process fits its specification: Cp and Cpk from the within-subgroup sigma
/// (the chart's MR̄/d₂, R̄/d₂ or s̄/c₄), Pp and Ppk from the overall sample standard deviation.
///
/// A one-sided specification has no Cp or Pp, and its Cpk and Ppk are that side's index alone.
struct ProcessCapability: Sendable, Equatable {
    /// Fewer subgroups than this make the indices a rough estimate, and the answer says so.
    static let meaningfulSubgroups = 25

    var values: Int
    var subgroups: Int
    var mean: Double
    var sigmaWithin: Double
    var sigmaOverall: Double
    var cp: Double?
    var cpk: Double?
    var pp: Double?
    var ppk: Double?
    /// Why the indices mean little or are missing, in words.
    var warnings: [String]

    /// The capability of `values` (every reading of every subgroup) against the specification
    /// limits `lower`…`upper` (either may be absent), with the chart's within-subgroup sigma.
    init(values all: [Double], subgroups: Int, sigmaWithin: Double, lower: Double?, upper: Double?) {
        values = all.count
        self.subgroups = subgroups
        mean = Statistics.mean(all)
        self.sigmaWithin = sigmaWithin
        sigmaOverall = Statistics.sampleStandardDeviation(all)
        warnings = []
        if lower == nil && upper == nil {
            warnings.append("the point has no specification limits: there is no capability to compute")
        }
        if subgroups < Self.meaningfulSubgroups {
            warnings.append("only \(subgroups) subgroups (\(all.count) values): indices from fewer than \(Self.meaningfulSubgroups) subgroups are rough estimates")
        }
        if let indices = Self.indices(mean: mean, sigma: sigmaWithin, lower: lower, upper: upper) {
            (cp, cpk) = indices
        } else if lower != nil || upper != nil {
            warnings.append("the within-subgroup variation is zero (every subgroup repeats its values): Cp and Cpk are undefined")
        }
        if let indices = Self.indices(mean: mean, sigma: sigmaOverall, lower: lower, upper: upper) {
            (pp, ppk) = indices
        } else if lower != nil || upper != nil {
            warnings.append("the overall variation is zero (every value is the same): Pp and Ppk are undefined")
        }
    }

    /// The spread index (both limits only) and the worse side's centring index for `sigma`.
    private static func indices(mean: Double, sigma: Double, lower: Double?, upper: Double?) -> (spread: Double?, centred: Double?)? {
        guard sigma > 0, lower != nil || upper != nil else { return nil }
        let spread = lower.flatMap { lower in upper.map { upper in (upper - lower) / (6 * sigma) } }
        let sides = [upper.map { ($0 - mean) / (3 * sigma) }, lower.map { (mean - $0) / (3 * sigma) }].compactMap { $0 }
        return (spread, sides.min())
    }
}
