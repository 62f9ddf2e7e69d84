/// The codes of SASL authentication and SCRAM credential administration (kept apart from the
/// main table so the security work of several branches merges without touching the same lines).
extension KafkaErrorCode {
    public static let unsupportedSaslMechanism = KafkaErrorCode(33)
    public static let illegalSaslState = KafkaErrorCode(34)
    public static let saslAuthenticationFailed = KafkaErrorCode(58)
    public static let resourceNotFound = KafkaErrorCode(91)
    public static let duplicateResource = KafkaErrorCode(92)
    public static let unacceptableCredential = KafkaErrorCode(93)
}
