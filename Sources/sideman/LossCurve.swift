import Foundation
import Music
import Neural

/// The loss curve `sideman train` writes beside the model: train and valid NLL per epoch, best ringed.
enum LossCurve {
    static func svg(_ history: [EpochResult], model: String) -> String {
        var chart = LineChartSVG(
            title: "Training \((model as NSString).lastPathComponent)", xLabel: "epoch", yLabel: "NLL per step (nats)",
            series: [
                .init(name: "train NLL", colour: "#1f77b4", points: history.map { (Double($0.epoch + 1), $0.trainNLL) }),
                .init(name: "valid NLL", colour: "#d62728", points: history.map { (Double($0.epoch + 1), $0.validNLL) }),
            ])
        if let best = history.filter({ $0.validNLL.isFinite }).min(by: { $0.validNLL < $1.validNLL }) {
            chart.highlight = (Double(best.epoch + 1), best.validNLL, "best: epoch \(best.epoch + 1), valid \(String(format: "%.3f", best.validNLL))")
        }
        return chart.render()
    }

    static func path(model: String) -> String { model + ".loss.svg" }

    static func write(_ history: [EpochResult], model: String) throws {
        try CommandFiles.write(Array(svg(history, model: model).utf8), to: path(model: model))
    }
}
