/// The ids a human parser writes and what each means, e.g. LIP's 20 classes.
///
/// Read from a label-set file (`Pipelines/sources/lip.yaml`); never hard-coded, so a parser
/// trained on another data set is a new file, not new code.
public struct SourceLabelSet: Equatable, Sendable {
    /// Short name, e.g. "lip".
    public let name: String
    /// Class names indexed by id; `nil` where the id is not used. At most 256 entries.
    public let namesByID: [String?]

    /// Builds a label set. Ids must be below 255 (255 is reserved for "ignore") and names unique;
    /// the file decoder checks both with line numbers, this initialiser only with a precondition.
    public init(name: String, classes: [(id: Int, name: String)]) {
        var names = [String?](repeating: nil, count: (classes.map(\.id).max() ?? -1) + 1)
        for entry in classes {
            precondition((0..<255).contains(entry.id), "source id \(entry.id) out of 0...254")
            precondition(names[entry.id] == nil, "source id \(entry.id) given twice")
            names[entry.id] = entry.name
        }
        self.name = name
        self.namesByID = names
    }

    public static func == (lhs: SourceLabelSet, rhs: SourceLabelSet) -> Bool {
        lhs.name == rhs.name && lhs.namesByID == rhs.namesByID
    }

    /// The ids in use, ascending.
    public var ids: [Int] { namesByID.indices.filter { namesByID[$0] != nil } }

    /// The id of a class name, or nil when the set has no such class.
    public func id(named name: String) -> Int? {
        namesByID.firstIndex { $0 == name }
    }

    /// The name of an id, or nil when unused.
    public func name(of id: Int) -> String? {
        id >= 0 && id < namesByID.count ? namesByID[id] : nil
    }

    /// True when `value` is an id of this set.
    public func contains(_ value: Int) -> Bool { name(of: value) != nil }
}
