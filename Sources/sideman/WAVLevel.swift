import Foundation

/// Brings a 16-bit PCM WAV (what FluidSynth's file renderer writes) to a listening level: FluidSynth's
/// default gain of 0.2 leaves a demo peaking near -25 dBFS, which sounds broken on a laptop speaker. The
/// samples are scaled so the loudest is at `targetDecibels`, never by more than `maximumGain` (a near-
/// silent file stays quiet rather than becoming hiss).
enum WAVLevel {
    static let targetDecibels = -1.0
    static let maximumGain = 20.0

    /// Where the 16-bit PCM samples lie in `bytes`, or nil for anything else (left as it is).
    static func samples(in bytes: [UInt8]) -> Range<Int>? {
        func word(_ at: Int) -> Int { Int(bytes[at]) | Int(bytes[at + 1]) << 8 }
        func long(_ at: Int) -> Int { word(at) | word(at + 2) << 16 }
        guard bytes.count >= 12, bytes[0..<4].elementsEqual("RIFF".utf8), bytes[8..<12].elementsEqual("WAVE".utf8) else { return nil }
        var at = 12
        var isPCM16 = false
        while at + 8 <= bytes.count {
            let size = long(at + 4)
            let body = at + 8
            if bytes[at..<at + 4].elementsEqual("fmt ".utf8), body + 16 <= bytes.count {
                isPCM16 = word(body) == 1 && word(body + 14) == 16
            } else if bytes[at..<at + 4].elementsEqual("data".utf8) {
                guard isPCM16 else { return nil }
                let end = min(bytes.count, body + size)
                return body..<(body + (end - body) / 2 * 2)
            }
            at = body + size + (size & 1)
        }
        return nil
    }

    /// The loudest sample, in dBFS (nil for a file it does not read, -inf for silence).
    static func peakDecibels(_ bytes: [UInt8]) -> Double? {
        guard let range = samples(in: bytes) else { return nil }
        let peak = stride(from: range.lowerBound, to: range.upperBound, by: 2).reduce(0) { loudest, i in
            max(loudest, abs(Int(Int16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8))))
        }
        return 20 * log10(Double(peak) / 32768)
    }

    /// `bytes` with its samples scaled to the target peak.
    static func normalized(_ bytes: [UInt8]) -> [UInt8] {
        guard let range = samples(in: bytes), let peak = peakDecibels(bytes), peak.isFinite else { return bytes }
        let gain = min(maximumGain, pow(10, (targetDecibels - peak) / 20))
        var out = bytes
        for i in stride(from: range.lowerBound, to: range.upperBound, by: 2) {
            let sample = Double(Int16(bitPattern: UInt16(bytes[i]) | UInt16(bytes[i + 1]) << 8)) * gain
            let scaled = UInt16(bitPattern: Int16(max(-32768, min(32767, sample.rounded()))))
            out[i] = UInt8(scaled & 0xFF)
            out[i + 1] = UInt8(scaled >> 8)
        }
        return out
    }
}
