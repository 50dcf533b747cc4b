// The library's public face includes the core's types (schema, policy, errors, records), so a
// client imports `CustomerVault` alone.
@_exported public import VaultCore
