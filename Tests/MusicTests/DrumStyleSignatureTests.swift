import Testing

@testable import Music

/// A style's drum signature (the share of its bars holding each hit) and the nearest style to a drum part.
@Suite struct DrumStyleSignatureTests {
    static func bar(_ hits: [(Int, Int)]) -> DrumBar { DrumBar(hits: hits.map { $0.0 << 8 | $0.1 }) }

    static let rock = DrumStyleSignature(bars: [
        bar([(0, 36), (4, 38), (8, 36), (12, 38), (0, 42), (4, 42), (8, 42), (12, 42)]),
        bar([(0, 36), (4, 38), (8, 36), (10, 36), (12, 38), (0, 42), (4, 42), (8, 42), (12, 42)]),
    ], stepsPerBar: 16)
    static let swing = DrumStyleSignature(bars: [bar([(0, 51), (4, 51), (7, 51), (8, 51), (12, 51), (15, 51), (4, 44), (12, 44)])], stepsPerBar: 16)
    static let waltz = DrumStyleSignature(bars: [bar([(0, 36), (4, 38), (8, 38)])], stepsPerBar: 12)

    @Test func sharesCountTheBarsHoldingEachHit() {
        #expect(Self.rock.shares[0 << 8 | 36] == 1)
        #expect(Self.rock.shares[10 << 8 | 36] == 0.5)
        #expect(Self.rock.shares[2 << 8 | 36] == nil)
    }

    @Test func theNearestStyleHasTheSameBarAndTheMostHitsInCommon() {
        let styles = ["rock": Self.rock, "swing": Self.swing, "waltz": Self.waltz]
        let played = DrumStyleSignature(bars: [Self.bar([(0, 36), (4, 38), (8, 36), (12, 38), (0, 42), (8, 42)])], stepsPerBar: 16)
        #expect(played.nearest(in: styles) == "rock")
        #expect(Self.swing.similarity(Self.swing) > 0.999)
        #expect(Self.rock.similarity(Self.swing) == 0)
        let threeFour = DrumStyleSignature(bars: [Self.bar([(0, 36), (4, 38)])], stepsPerBar: 12)
        #expect(threeFour.nearest(in: styles) == "waltz", "only a style in the same bar can match")
        let fiveFour = DrumStyleSignature(bars: [Self.bar([(0, 36)])], stepsPerBar: 20)
        #expect(fiveFour.nearest(in: styles) == nil)
    }

    @Test func signaturesRoundTripThroughTheirMetadataText() throws {
        let styles = ["rock": Self.rock, "waltz": Self.waltz]
        let text = DrumStyleSignature.text(styles)
        let back = try #require(DrumStyleSignature.parse(text))
        #expect(back.keys.sorted() == ["rock", "waltz"])
        #expect(back["rock"]?.stepsPerBar == 16 && back["waltz"]?.stepsPerBar == 12)
        #expect(back["rock"]?.shares == Self.rock.shares)
        for bad in ["rock", "rock=x|1:1", "rock=16|1-1", "rock=16|a:0.5"] { #expect(DrumStyleSignature.parse(bad) == nil, "\(bad)") }
    }
}
