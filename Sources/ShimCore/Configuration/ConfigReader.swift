/// Reads typed values out of a `ConfigValue` tree with the usual layering
/// — defaults < file < `DCR_SHIM_` environment < flags — and
/// collects every problem instead of stopping at the first.
public struct ConfigReader {
    public private(set) var problems: [String] = []
    private let root: ConfigValue
    private let environment: [String: String]
    private let flags: [String: String]
    private let readFile: (String) throws -> String
    private var visited: Set<String> = []
    /// Keys whose whole subtree is read as one value (maps of extra params).
    private var opaque: Set<String> = []

    public init(
        root: ConfigValue, environment: [String: String], flags: [String: String],
        readFile: @escaping (String) throws -> String
    ) {
        self.root = root
        self.environment = environment
        self.flags = flags
        self.readFile = readFile
    }

    /// `upstream.client_secret` → `DCR_SHIM_UPSTREAM_CLIENT_SECRET`.
    public static func environmentName(_ path: String) -> String {
        "DCR_SHIM_" + path.uppercased().replacingDots()
    }

    mutating func problem(_ text: String) { problems.append(text) }

    func node(_ path: String) -> ConfigValue? {
        var current = root
        for part in path.split(separator: ".") {
            let (name, index) = Self.splitIndex(String(part))
            guard case .map(let map) = current, let next = map[name] else { return nil }
            current = next
            if let index {
                guard case .list(let items) = current, index < items.count else { return nil }
                current = items[index]
            }
        }
        return current
    }

    private static func splitIndex(_ part: String) -> (String, Int?) {
        guard part.hasSuffix("]"), let open = part.firstIndex(of: "[") else { return (part, nil) }
        return (String(part[..<open]), Int(part[part.index(after: open)..<part.index(before: part.endIndex)]))
    }

    /// The raw text of a scalar key after layering, or nil.
    mutating func text(_ path: String) -> String? {
        visited.insert(path)
        if let flag = flags[path] { return flag }
        // An empty variable counts as unset (a common way to "unset" in compose files).
        if !path.contains("["), let env = environment[Self.environmentName(path)], !env.isEmpty { return env }
        switch node(path) {
        case .string(let text): return text
        case .none, .null: return nil
        case .list, .map:
            problem("\(path): must be a single value")
            return nil
        }
    }

    public mutating func string(_ path: String, default value: String? = nil) -> String? {
        text(path) ?? value
    }

    /// One of a fixed set of names (an enum's raw values); another value is a
    /// problem naming them all, and the default stands in for it.
    public mutating func choice<Choice: RawRepresentable & CaseIterable>(_ path: String, default value: Choice) -> Choice
    where Choice.RawValue == String {
        guard let raw = text(path) else { return value }
        if let chosen = Choice(rawValue: raw) { return chosen }
        let names = Choice.allCases.map(\.rawValue)
        let listed = names.count > 1 ? names.dropLast().joined(separator: ", ") + " or " + names.last! : names.joined()
        problem("\(path): \(raw.quotedForProblem) is not \(listed)")
        return value
    }

    /// Which layer sets a scalar: 2 flag, 1 environment, 0 file, nil none.
    func layer(_ path: String) -> Int? {
        if flags[path] != nil { return 2 }
        if let env = environment[Self.environmentName(path)], !env.isEmpty { return 1 }
        if case .string = node(path) { return 0 }
        return nil
    }

    /// A secret: `key`, or `key_file` (a path whose contents, trimmed, are the
    /// value). A higher layer wins (an environment `…_CLIENT_SECRET` over the
    /// file's `client_secret_file`); both in one layer is a problem.
    public mutating func secret(_ path: String) -> String? {
        let directLayer = layer(path)
        let fileLayer = layer(path + "_file")
        var direct = text(path)
        var filePath = text(path + "_file")
        if let d = directLayer, let f = fileLayer {
            if d == f { problem("\(path): give either \(path) or \(path)_file, not both") } else if d > f { filePath = nil } else { direct = nil }
        }
        if let filePath {
            do {
                return try readFile(filePath).trimmingWhitespace()
            } catch {
                problem("\(path)_file: cannot read \(filePath)")
            }
        }
        return direct
    }

    public mutating func int(_ path: String, default value: Int, range: ClosedRange<Int>) -> Int {
        guard let raw = text(path) else { return value }
        guard let number = Int(raw), range.contains(number) else {
            problem("\(path): \(raw.quotedForProblem) is not a whole number in \(range.lowerBound)...\(range.upperBound)")
            return value
        }
        return number
    }

    public mutating func bool(_ path: String, default value: Bool) -> Bool {
        guard let raw = text(path) else { return value }
        switch raw.lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        default:
            problem("\(path): \(raw.quotedForProblem) is not true or false")
            return value
        }
    }

    /// Seconds, from `45s`, `10m`, `12h`, `30d` or a bare number of seconds.
    public mutating func duration(_ path: String, default value: Int, range: ClosedRange<Int>) -> Int {
        guard let raw = text(path) else { return value }
        guard let seconds = Self.parseDuration(raw), range.contains(seconds) else {
            problem("\(path): \(raw.quotedForProblem) is not a duration between \(range.lowerBound)s and \(range.upperBound)s (e.g. 45s, 10m, 30d)")
            return value
        }
        return seconds
    }

    public static func parseDuration(_ raw: String) -> Int? {
        let units: [Character: Int] = ["s": 1, "m": 60, "h": 3600, "d": 86400]
        if let number = Int(raw) { return number >= 0 ? number : nil }
        guard let unit = raw.last, let factor = units[unit], let number = Int(raw.dropLast()), number >= 0,
            number <= Int.max / factor
        else { return nil }
        return number * factor
    }

    /// A list of strings; from the environment or a flag, comma-separated.
    public mutating func stringList(_ path: String, default value: [String]) -> [String] {
        visited.insert(path)
        // As for scalars, an empty variable counts as unset.
        if let override = flags[path] ?? environment[Self.environmentName(path)].flatMap({ $0.isEmpty ? nil : $0 }) {
            return override.split(separator: ",").map { $0.trimmingWhitespace() }.filter { !$0.isEmpty }
        }
        switch node(path) {
        case .none, .null: return value
        case .list(let items):
            var out: [String] = []
            for (i, item) in items.enumerated() {
                if let text = item.scalar { out.append(text) } else { problem("\(path)[\(i)]: must be a string") }
            }
            return out
        case .string, .map:
            problem("\(path): must be a list")
            return value
        }
    }

    /// A map of string to string, read whole (file only).
    public mutating func stringMap(_ path: String) -> [String: String] {
        visited.insert(path)
        opaque.insert(path)
        switch node(path) {
        case .none, .null: return [:]
        case .map(let map):
            var out: [String: String] = [:]
            for (key, value) in map {
                if let text = value.scalar { out[key] = text } else { problem("\(path).\(key): must be a string") }
            }
            return out
        default:
            problem("\(path): must be a map")
            return [:]
        }
    }

    /// How many items the list at `path` has (file only).
    public mutating func count(_ path: String) -> Int {
        visited.insert(path)
        switch node(path) {
        case .list(let items): return items.count
        case .none, .null: return 0
        default:
            problem("\(path): must be a list")
            return 0
        }
    }

    /// Reports every key in the file that no reader asked for.
    public mutating func reportUnknownKeys() {
        var unknown: [String] = []
        func walk(_ value: ConfigValue, _ path: String) {
            if opaque.contains(path) { return }
            switch value {
            case .map(let map):
                for key in map.keys.sorted() {
                    let child = path.isEmpty ? key : "\(path).\(key)"
                    // A key written with a literal dot or bracket ("listen.port: 1")
                    // is not the nested key it looks like: report it.
                    if key.contains(where: { $0 == "." || $0 == "[" })
                        || !visited.contains(child) && !visited.contains(where: { $0.hasPrefix(child + ".") || $0.hasPrefix(child + "[") })
                    {
                        unknown.append(child)
                    } else {
                        walk(map[key]!, child)
                    }
                }
            case .list(let items):
                for (i, item) in items.enumerated() { walk(item, "\(path)[\(i)]") }
            default:
                break
            }
        }
        walk(root, "")
        for key in unknown { problem("\(key): unknown key") }
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> String {
        String(drop(while: \.isWhitespace).reversed().drop(while: \.isWhitespace).reversed())
    }

    func replacingDots() -> String {
        String(map { $0 == "." ? "_" : $0 })
    }

    var quotedForProblem: String { "\"\(self)\"" }
}
