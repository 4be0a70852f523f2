import Recording

/// One combination of the varied values: the `--vary` keys, in command-line order, each with
/// one of its values.
public struct Variant: Sendable, Equatable {
    /// (key, value) per `--vary`, in command-line order.
    public let assignments: [Assignment]
    /// One key with its value in this variant.
    public struct Assignment: Sendable, Equatable {
        /// The dotted key.
        public let key: String
        /// The value, as given on the command line.
        public let value: String
        /// A key and its value.
        public init(key: String, value: String) {
            self.key = key
            self.value = value
        }
    }

    /// A variant of these assignments.
    public init(_ assignments: [Assignment]) { self.assignments = assignments }

    /// `key=value,key=value` in command-line order, as given (`base` when nothing is varied):
    /// names the variant in messages, the sweep's tables and its plots.
    public var label: String {
        assignments.isEmpty ? "base" : assignments.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
    }

    /// The `--set KEY=VALUE` overrides that make this variant.
    public var overrides: [String] { assignments.map { "\($0.key)=\($0.value)" } }

    /// The variant's directory name in the sweep directory: ``label`` made safe, see ``directoryName(for:)``.
    public var directoryName: String { Variant.directoryName(for: label) }

    /// The longest directory name kept before the hash (file names may have 255 bytes).
    public static let maximumNameLength = 100

    /// The directory name of a variant labelled `label`:
    /// - every character other than `A–Z a–z 0–9 . _ - + = ,` becomes `_` (so no `/`, no
    ///   spaces, quotes, brackets or shell patterns), and a leading `.` or `-` becomes `_`;
    /// - the name is cut to ``maximumNameLength`` characters;
    /// - if either changed anything, `_` and the first 8 hex digits of the SHA-256 of the label
    ///   are appended, so that labels that differ only in replaced characters stay apart.
    ///
    /// A name is therefore a function of its own label only (adding values to a sweep never
    /// renames its existing variants), and a label that is already safe is its own name:
    /// `flow.step-size=0.1,population.count=500`. ``SweepPlan`` refuses the (unlikely) plan in
    /// which two variants still get one name.
    public static func directoryName(for label: String) -> String {
        var name = String(
            label.unicodeScalars.map { c -> Character in
                switch c {
                case "A"..."Z", "a"..."z", "0"..."9", ".", "_", "-", "+", "=", ",": return Character(c)
                default: return "_"
                }
            })
        if name.first == "." || name.first == "-" { name = "_" + name.dropFirst() }
        if name.count > maximumNameLength { name = String(name.prefix(maximumNameLength)) }
        if name != label { name += "_" + sha256Hex(Array(label.utf8)).prefix(8) }
        return name
    }
}
