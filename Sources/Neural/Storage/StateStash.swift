/// The streaming state one step overwrites, copied aside and put back, so that a step run only to bring its
/// code and data into cache (a model's `prefetch()`, in the idle time before the step that counts) leaves
/// the model exactly as it was.
///
/// Sized once, by running the owner's own `keep` calls on a stash that only counts: the list of what a step
/// overwrites is written in one place. `keep` and `putBack` never allocate.
public final class StateStash {
    private var saved: UnsafeMutableRawPointer
    private var places: UnsafeMutablePointer<UnsafeMutableRawPointer>
    private var sizes: UnsafeMutablePointer<Int>
    private var byteCapacity = 0, regionCapacity = 0
    private var used = 0, kept = 0
    private var counting = true

    public init() {
        saved = UnsafeMutableRawPointer.allocate(byteCount: 1, alignment: 64)
        places = .allocate(capacity: 1)
        sizes = .allocate(capacity: 1)
    }

    deinit {
        saved.deallocate()
        places.deallocate()
        sizes.deallocate()
    }

    /// Sizes the stash to what `keepState` keeps (it is called once, on a stash that only counts). Allocates.
    public func size(by keepState: (StateStash) -> Void) {
        (counting, used, kept) = (true, 0, 0)
        keepState(self)
        saved.deallocate()
        places.deallocate()
        sizes.deallocate()
        (byteCapacity, regionCapacity) = (used, kept)
        saved = UnsafeMutableRawPointer.allocate(byteCount: max(1, used), alignment: 64)
        places = .allocate(capacity: max(1, kept))
        sizes = .allocate(capacity: max(1, kept))
        (counting, used, kept) = (false, 0, 0)
    }

    /// Copies `count` elements from `place` aside, to be written back by `putBack`.
    @inline(__always) public func keep<T>(_ place: UnsafeMutablePointer<T>, count: Int) {
        let bytes = count * MemoryLayout<T>.stride
        defer { (used, kept) = (used + bytes, kept + 1) }
        if counting { return }
        // Sized by the same calls, so this holds unless a model's state changed shape after it was built.
        guard kept < regionCapacity, used + bytes <= byteCapacity else {
            fatalError("StateStash: more state kept than it was sized for")
        }
        (saved + used).copyMemory(from: UnsafeRawPointer(place), byteCount: bytes)
        places[kept] = UnsafeMutableRawPointer(place)
        sizes[kept] = bytes
    }

    /// Writes back everything kept since the last `putBack`, and empties the stash.
    @inline(__always) public func putBack() {
        var offset = 0
        for k in 0..<kept {
            places[k].copyMemory(from: UnsafeRawPointer(saved + offset), byteCount: sizes[k])
            offset += sizes[k]
        }
        (used, kept) = (0, 0)
    }
}

/// A model whose `prefetch()` rehearses a step: it names what a step carries to the next (`keepStepState`),
/// and the rest (the logits, the step, the chain, putting back) is the same for every family.
protocol RehearsingModel: StreamingModel {
    var stash: StateStash { get }
    /// Keeps in `stash` what one step overwrites and the next reads (the logits are kept by `rehearse`).
    func keepStepState(in stash: StateStash)
    /// Takes back what a rehearsed step added that putting back the kept state does not (a KV cache's
    /// newest entry); nothing for most families.
    func forgetRehearsedStep()
}

/// Passes of reading the step's data and rehearsing it in `prefetch()`. After a walk through a
/// cache-sized buffer, one pass left a readied step well above a warm one, and the gap closed over a few
/// more: the int8 transformer's readied cold median 140-172 µs with one pass, 97-108 with three (warm 84);
/// the attention RNN's 21.9-22.8 and 19.7-20.1 (warm 17.5); the LSTM's and the WaveNet's about the same
/// either way (docs/PRECISION.md).
let readyingPasses = 3

extension RehearsingModel {
    /// `prefetch()`: the step's data read and a step rehearsed, `readyingPasses` times.
    func ready() {
        for _ in 0..<readyingPasses {
            touchStepData()
            rehearse()
        }
    }

    func forgetRehearsedStep() {}

    /// Sizes the stash for `rehearse` (once, when the model is built).
    func sizeRehearsal() {
        stash.size { keepStepState(in: $0); keepLogits(in: $0) }
    }

    /// One step on an empty input, its chain drawn as the engine and the bench draw one, then the state
    /// `keepStepState` names and the logits put back: the code, branch history, TLB entries and data of a
    /// real step are then warm, and the next real step finds the model as it was. Never allocates (no
    /// closure here: a method passed as one allocated its context on every call).
    func rehearse() {
        keepStepState(in: stash)
        keepLogits(in: stash)
        step(FeatureList())
        if let chain {
            var rng = SeededRandom(seed: 0x5EED)
            _ = chain.sample(logits.baseAddress!, temperature: 1, topP: 1, rng: &rng)
        }
        stash.putBack()
        forgetRehearsedStep()
    }

    private func keepLogits(in stash: StateStash) {
        stash.keep(UnsafeMutablePointer(mutating: logits.baseAddress!), count: logits.count)
    }
}
