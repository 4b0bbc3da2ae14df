import Foundation

/// The factors that turn subgroup statistics into a process sigma and control limits, for
/// subgroups of `n` readings from a normal process.
///
/// d₂ and d₃ are the mean and the standard deviation of the range of n values, in units of σ;
/// c₄ is the mean of the sample standard deviation of n values, in units of σ. The chart
/// factors (D₃, D₄, B₃, B₄; A₂ and A₃ are 3/(d₂√n) and 3/(c₄√n)) follow from them
/// (NIST/SEMATECH e-Handbook §6.3.2).
enum ControlChartConstants {
    /// The largest subgroup charted with ranges; larger ones are charted with standard deviations.
    static let largestRangeSubgroup = 9

    /// d₂ and d₃ for n = 2…9, to six places (the handbook's tables give three; d₂(2) = 2/√π
    /// and d₂(3) = 3/√π exactly).
    private static let rangeFactors: [Int: (d2: Double, d3: Double)] = [
        2: (1.128379, 0.852502), 3: (1.692569, 0.888368), 4: (2.058751, 0.879808), 5: (2.325929, 0.864082),
        6: (2.534413, 0.848040), 7: (2.704357, 0.833205), 8: (2.847201, 0.819831), 9: (2.970026, 0.807834),
    ]

    /// d₂ for subgroups of `n` (2…9).
    static func d2(_ n: Int) -> Double? { rangeFactors[n]?.d2 }

    /// d₃ for subgroups of `n` (2…9).
    static func d3(_ n: Int) -> Double? { rangeFactors[n]?.d3 }

    /// c₄ = √(2/(n−1)) · Γ(n/2) / Γ((n−1)/2), for any n ≥ 2.
    static func c4(_ n: Int) -> Double? {
        guard n >= 2 else { return nil }
        let size = Double(n)
        return (2 / (size - 1)).squareRoot() * exp(lgamma(size / 2) - lgamma((size - 1) / 2))
    }

    /// D₃ = max(0, 1 − 3 d₃/d₂): an R chart's lower limit, in units of R̄.
    static func rangeChartLowerFactor(_ n: Int) -> Double? {
        guard let d2 = d2(n), let d3 = d3(n) else { return nil }
        return max(0, 1 - 3 * d3 / d2)
    }

    /// D₄ = 1 + 3 d₃/d₂: an R chart's upper limit, in units of R̄.
    static func rangeChartUpperFactor(_ n: Int) -> Double? {
        guard let d2 = d2(n), let d3 = d3(n) else { return nil }
        return 1 + 3 * d3 / d2
    }

    /// B₃ = max(0, 1 − 3 √(1 − c₄²) / c₄): an S chart's lower limit, in units of s̄.
    static func deviationChartLowerFactor(_ n: Int) -> Double? { c4(n).map { max(0, 1 - 3 * (1 - $0 * $0).squareRoot() / $0) } }

    /// B₄ = 1 + 3 √(1 − c₄²) / c₄: an S chart's upper limit, in units of s̄.
    static func deviationChartUpperFactor(_ n: Int) -> Double? { c4(n).map { 1 + 3 * (1 - $0 * $0).squareRoot() / $0 } }
}
