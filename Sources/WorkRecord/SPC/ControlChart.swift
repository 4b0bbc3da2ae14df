/// A Shewhart control chart of one measurement point: what each subgroup plots on its two panes
/// (location: the value or the subgroup's average; dispersion: the moving range, the range or
/// the standard deviation) and the limits both panes are judged against.
///
/// A subgroup is one build's readings of the point, all of the same size: one reading makes an
/// individuals and moving-range chart (I-MR), 2…9 an averages and ranges chart (X̄-R), 10 or more
/// an averages and standard deviations chart (X̄-S).
struct ControlChart: Sendable {
    enum Kind: String, Sendable {
        case individuals = "I-MR"
        case averagesAndRanges = "Xbar-R"
        case averagesAndDeviations = "Xbar-S"

        init(subgroupSize: Int) {
            self = subgroupSize <= 1 ? .individuals
                : subgroupSize <= ControlChartConstants.largestRangeSubgroup ? .averagesAndRanges : .averagesAndDeviations
        }

        /// What the dispersion pane plots, in words.
        var dispersionName: String {
            switch self {
            case .individuals: "moving range"
            case .averagesAndRanges: "range"
            case .averagesAndDeviations: "standard deviation"
            }
        }
    }

    /// A pane's centre line and control limits.
    struct Limits: Sendable, Equatable {
        var centre: Double
        var lower: Double
        var upper: Double
    }

    /// The limits of both panes, computed from a baseline of subgroups (Phase I) and, once
    /// frozen, kept for the subgroups that follow (Phase II).
    struct Baseline: Sendable, Equatable {
        var kind: Kind
        var subgroupSize: Int
        var location: Limits
        var dispersion: Limits
        /// The within-subgroup sigma the limits rest on: MR̄/d₂(2), R̄/d₂(n) or s̄/c₄(n).
        var sigmaWithin: Double
        /// How many subgroups the limits were computed from.
        var subgroups: Int
    }

    /// What one subgroup plots: its location, and its dispersion (none for the first value of
    /// an individuals chart, which has no moving range).
    struct Plotted: Sendable, Equatable {
        var location: Double
        var dispersion: Double?
    }

    let kind: Kind
    let subgroupSize: Int
    let plotted: [Plotted]

    /// The chart of `subgroups`, each of `subgroupSize` values, oldest first.
    init(subgroups: [[Double]], subgroupSize: Int) {
        kind = Kind(subgroupSize: subgroupSize)
        self.subgroupSize = subgroupSize
        switch kind {
        case .individuals:
            let values = subgroups.compactMap(\.first)
            plotted = values.indices.map { index in
                Plotted(location: values[index], dispersion: index == 0 ? nil : abs(values[index] - values[index - 1]))
            }
        case .averagesAndRanges:
            plotted = subgroups.map { Plotted(location: Statistics.mean($0), dispersion: ($0.max() ?? 0) - ($0.min() ?? 0)) }
        case .averagesAndDeviations:
            plotted = subgroups.map { Plotted(location: Statistics.mean($0), dispersion: Statistics.sampleStandardDeviation($0)) }
        }
    }

    /// The limits computed from the first `count` subgroups (all when nil); nil when they are
    /// too few to give a sigma (an individuals chart needs two values, the others two subgroups).
    func baseline(first count: Int? = nil) -> Baseline? {
        let period = Array(plotted.prefix(count ?? plotted.count))
        guard period.count >= 2 else { return nil }
        let centre = Statistics.mean(period.map(\.location))
        let dispersions = period.compactMap(\.dispersion)
        let averageDispersion = Statistics.mean(dispersions)
        let size = subgroupSize
        // The bias factor that turns the average dispersion into sigma, and the dispersion
        // pane's limit factors. Individuals are charted with moving ranges of two.
        let factors: (bias: Double?, lower: Double?, upper: Double?)
        if kind == .averagesAndDeviations {
            factors = (ControlChartConstants.c4(size), ControlChartConstants.deviationChartLowerFactor(size), ControlChartConstants.deviationChartUpperFactor(size))
        } else {
            let span = kind == .individuals ? 2 : size
            factors = (ControlChartConstants.d2(span), ControlChartConstants.rangeChartLowerFactor(span), ControlChartConstants.rangeChartUpperFactor(span))
        }
        guard let bias = factors.bias, let lowerFactor = factors.lower, let upperFactor = factors.upper else { return nil }
        let sigma = averageDispersion / bias
        let spread = 3 * sigma / Double(max(size, 1)).squareRoot()
        return Baseline(
            kind: kind, subgroupSize: size,
            location: Limits(centre: centre, lower: centre - spread, upper: centre + spread),
            dispersion: Limits(centre: averageDispersion, lower: lowerFactor * averageDispersion, upper: upperFactor * averageDispersion),
            sigmaWithin: sigma, subgroups: period.count)
    }
}

/// The few statistics the charts need, over Doubles (the exact decimals are converted once,
/// when they enter the chart).
enum Statistics {
    static func mean(_ values: [Double]) -> Double {
        values.isEmpty ? 0 : values.reduce(0, +) / Double(values.count)
    }

    /// The sample standard deviation (n − 1 in the denominator); 0 for fewer than two values.
    static func sampleStandardDeviation(_ values: [Double]) -> Double {
        guard values.count >= 2 else { return 0 }
        let centre = mean(values)
        return (values.reduce(0) { $0 + ($1 - centre) * ($1 - centre) } / Double(values.count - 1)).squareRoot()
    }
}
