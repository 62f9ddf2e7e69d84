// kafka-codegen: regenerates Sources/KafkaMessages/Generated from Kafka's JSON schemas.
//
//     kafka-codegen <specsDir> <outDir> [--extra DIR]...           write the generated files
//     kafka-codegen --check <specsDir> <outDir> [--extra DIR]...   exit 1 listing stale files
//
// --extra adds a folder of schemas missing from Kafka's snapshot (the repository's specs/).
import KafkaCodegen

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

var arguments = Array(CommandLine.arguments.dropFirst())
let check = arguments.first == "--check"
if check { arguments.removeFirst() }
var extras: [String] = []
while let flag = arguments.firstIndex(of: "--extra"), flag + 1 < arguments.count {
    extras.append(arguments[flag + 1])
    arguments.removeSubrange(flag...(flag + 1))
}
guard arguments.count == 2 else {
    print("usage: kafka-codegen [--check] <specsDir> <outDir> [--extra DIR]...")
    exit(2)
}
do {
    let files = try MessageGenerator.generate(specsDirectory: arguments[0], additionalDirectories: extras)
    if check {
        let stale = try MessageGenerator.staleFiles(files, in: arguments[1])
        if stale.isEmpty {
            print("kafka-codegen: \(files.count) files are current")
        } else {
            print("kafka-codegen: \(stale.count) stale files in \(arguments[1]):")
            for name in stale { print("  \(name)") }
            exit(1)
        }
    } else {
        let changed = try MessageGenerator.write(files, to: arguments[1])
        print("kafka-codegen: \(files.count) files, \(changed.count) written or removed")
        for name in changed { print("  \(name)") }
    }
} catch {
    print("kafka-codegen: \(error)")
    exit(1)
}
