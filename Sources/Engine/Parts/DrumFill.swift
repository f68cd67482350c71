/// What a drummer plays around a fill (the fill control): the fill itself, toms and snare instead of the
/// time-keeping cymbals, and the landing on the downbeat after it, a crash with the kick. A pull (in nats)
/// on the drum model's logits per GM kit piece, so the fill is still the model's, in its groove's
/// rhythm, but heard as a fill: a uniform boost of every piece (what this replaced) only made the same
/// groove a little busier.
public enum DrumFill: Equatable, Sendable {
    case none
    case fill
    case landing

    /// The pull on a GM drum note's logit.
    func pull(on note: Int) -> Float {
        switch self {
        case .none: return 0
        case .fill:
            switch note {
            case 38, 40: return 2.0  // snares
            case 41, 43, 45, 47, 48, 50: return 3.0  // toms, low to high
            case 42, 44, 46, 51, 59: return -2.0  // hi-hats and ride: time-keeping gives way
            default: return 0
            }
        case .landing:
            switch note {
            case 49, 57: return 5.0  // crash cymbals
            case 35, 36: return 2.0  // the kick under it
            default: return 0
            }
        }
    }
}
