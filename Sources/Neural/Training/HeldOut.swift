/// The held-out pieces a trainer checks each epoch.
public enum HeldOut {
    /// At most `count` of `items`, evenly spread over them (all of them when there are no more): a short
    /// check that stands for the whole held-out file, the same every epoch. (A whole-number stride took
    /// the first `count` whenever there were fewer than twice as many: one collection of a corpus.)
    public static func spread<T>(_ items: [T], count: Int) -> [T] {
        guard items.count > count, count > 0 else { return items.count > count ? [] : items }
        return (0..<count).map { items[$0 * items.count / count] }
    }
}
