extension Meter {
    /// Compound meters (6/8, 9/8, 12/8) are felt in dotted quarters: that is their beat, for clicks,
    /// for beat tracking and for "beats" of silence.
    public var isCompound: Bool { beatUnit == 8 && beats % 3 == 0 && beats > 3 }

    /// 16th-note steps in one beat: 4 in x/4, 6 in compound x/8, 2 in simple x/8, 8 in x/2.
    public var stepsPerBeat: Int { isCompound ? 6 : max(1, 16 / beatUnit) }

    public var beatsPerBar: Int { max(1, stepsPerBar / stepsPerBeat) }

    /// Where a step falls in the bar. Steps before 0 (a count-in) belong to negative bars.
    public func boundary(step: Int64, frame: UInt64, framesPerStep: Double) -> StepBoundary {
        let perBar = Int64(max(1, stepsPerBar))
        var bar = step / perBar
        if step < 0, step % perBar != 0 { bar -= 1 }
        let inBar = Int(step - bar * perBar)
        let perBeat = stepsPerBeat
        return StepBoundary(
            frame: frame, step: step, bar: bar, stepInBar: inBar, beatInBar: inBar / perBeat,
            isBeat: inBar % perBeat == 0, isDownbeat: inBar == 0, framesPerStep: framesPerStep)
    }
}
