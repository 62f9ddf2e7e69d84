/// Whether something that exists in `versions` applies, given that the code runs only for
/// versions in `context`: always, never, or a Swift expression over `version`. Conditions are
/// computed relative to the enclosing struct's versions so the generated code tests only what
/// can actually vary there.
enum Condition: Equatable {
    case always
    case never
    case expression(String)

    init(_ versions: Versions, within context: Versions) {
        let i = versions.intersection(context)
        if i.isEmpty || context.isEmpty {
            self = .never
        } else if i == context {
            self = .always
        } else if i.lowest > context.lowest, i.highest >= context.highest {
            self = .expression("version >= \(i.lowest)")
        } else if i.lowest <= context.lowest, i.highest < context.highest {
            self = .expression("version <= \(i.highest)")
        } else if i.lowest == i.highest {
            self = .expression("version == \(i.lowest)")
        } else {
            self = .expression("(\(i.lowest)...\(i.highest)).contains(version)")
        }
    }

    /// A Swift Bool expression: "true", "false" or the test itself.
    var swift: String {
        switch self {
        case .always: return "true"
        case .never: return "false"
        case .expression(let e): return e
        }
    }
}
