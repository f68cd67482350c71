/// What the drummer plays in the arranger's sections: an intro (the first bars after the band starts, when
/// the preset asks for one), the groove (main A), its busier variation (main B), a fill (the fill and
/// ending controls, into a new section, and the intro's last half bar) and the landing on the downbeat after it.
/// A pull (in nats) on the drum model's logits per GM kit piece, so the groove stays the model's, in its
/// rhythm, but is heard as what it is: a fill is toms and snare where the time-keeping cymbals were, its
/// landing a crash with the kick, main B the ride and more kick. (A uniform boost of every piece, what the
/// fill was before, only made the same groove a little busier: nobody heard it.)
public enum DrumSection: Equatable, Sendable {
    case intro
    case mainA
    case mainB
    case fill
    case landing

    /// The pull on a GM drum note's logit.
    func pull(on note: Int) -> Float {
        switch self {
        case .mainA: return 0
        case .intro:
            switch note {
            case 37: return 2.0  // side stick: the intro marks time lightly
            case 42, 44: return 0.5  // closed and pedal hi-hat
            case 35, 36: return -1.0  // a lighter kick
            case 38, 40: return -2.5  // the backbeat waits for the groove
            case 49, 57, 55, 52: return -4.0  // no crash until the groove lands
            default: return 0
            }
        case .mainB:
            switch note {
            case 51, 53: return 2.0  // ride, ride bell: the B groove rides
            case 46: return 0.7  // open hi-hat
            case 35, 36: return 0.7  // more kick
            case 42, 44: return -1.5  // the closed hi-hat gives way to the ride
            default: return 0
            }
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
