/// What the two panes of an `spc.get` chart plot, by the answer's `chart`, for a client that
/// labels them (the station page, the terminal summary).
public enum ControlChartPanes {
    /// The location pane's name (I or X̄) and the dispersion pane's (MR, R or S).
    public static func names(chart: String) -> (location: String, dispersion: String) {
        switch chart {
        case "I-MR": ("I", "MR")
        case "Xbar-R": ("X̄", "R")
        default: ("X̄", "S")
        }
    }
}
