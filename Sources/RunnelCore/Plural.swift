/// A count with its noun for log and CLI lines: `counted(1, "partition")` is "1 partition",
/// `counted(3, "partition")` is "3 partitions". A noun whose plural is not the singular plus
/// "s" passes its plural.
public func counted(_ count: some BinaryInteger, _ singular: String, plural: String? = nil) -> String {
    "\(count) \(count == 1 ? singular : plural ?? singular + "s")"
}
