import CCRC32C

/// CRC-32C (Castagnoli), the checksum of RecordBatch v2. Hardware (SSE4.2) when available,
/// slicing-by-8 table otherwise.
public enum CRC32C {
    /// Checksum of `bytes`, continuing from `crc` (0 to start).
    @inlinable
    public static func checksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return runnel_crc32c(crc, base, bytes.count)
    }

    public static func checksum(_ bytes: [UInt8]) -> UInt32 {
        bytes.withUnsafeBytes { checksum($0) }
    }

    /// The table path alone, for tests that compare it with the hardware path.
    public static func tableChecksum(_ bytes: UnsafeRawBufferPointer, continuing crc: UInt32 = 0) -> UInt32 {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return crc }
        return runnel_crc32c_table(crc, base, bytes.count)
    }

    public static var usesHardware: Bool { runnel_crc32c_hardware() != 0 }
}
