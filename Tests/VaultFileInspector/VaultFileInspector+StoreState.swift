package import Foundation
import GRDB

/// What the file holds about each customer, principal, key, rotation and import, and the invariants
/// that hold whatever a crash interrupted (the crash-injection tests' model of the store).
extension VaultFileInspector {
    /// Everything stored about one customer, as row counts.
    package struct Footprint: Equatable {
        package var exists = true
        package var erased = false
        package var hasAttributes = false
        package var sealed = 0
        package var uniqueEntries = 0
        package var blindEntries = 0
        package var transactions = 0
        package var transactionSealed = 0
        package var interactions = 0
        package var interactionSealed = 0
        package var behaviour = 0
        package var consentEvents = 0
        /// Order-independent hash of the customer's sealed values (field, key version, ciphertexts):
        /// changes whenever any of its values is written.
        package var sealedHash = 0

        package init(exists: Bool = true, erased: Bool = false, hasAttributes: Bool = false) {
            (self.exists, self.erased, self.hasAttributes) = (exists, erased, hasAttributes)
        }

        /// Without what a rotation changes: the ciphertexts, and the index entries it adds beside
        /// the old ones and drops at its end.
        package var ignoringRotation: Footprint {
            var copy = self
            copy.uniqueEntries = 0
            copy.blindEntries = 0
            copy.sealedHash = 0
            return copy
        }
    }

    package struct ImportProgress: Equatable {
        package var kind: String
        package var recordsDone: Int
        package var accepted: Int
        package var rejected: Int
        package var finished: Bool
        package var rejects: Set<Int>

        package init(kind: String, recordsDone: Int, accepted: Int, rejected: Int, finished: Bool, rejects: Set<Int>) {
            (self.kind, self.recordsDone, self.accepted, self.rejected, self.finished, self.rejects) =
                (kind, recordsDone, accepted, rejected, finished, rejects)
        }
    }

    package struct PrincipalRow: Equatable {
        package var role: String
        package var attributes: String
        package var disabled: Bool
        package var grants: Set<Int64>
    }

    package struct StoreState {
        package init() {}

        package var footprints: [Int64: Footprint] = [:]
        package var ledger: Set<Int64> = []
        package var imports: [Data: ImportProgress] = [:]
        package var principals: [String: PrincipalRow] = [:]
        package var unfinishedRotations = 0
        package var finishedRotations = 0
        /// Sealed values and index entries under a key version older than the newest live one.
        package var onOlderVersions = 0
        package var liveKeyVersions = 0
        package var sealedValues = 0
        package var auditEntries = 0
        /// Broken invariants, each a sentence without personal data.
        package var problems: [String] = []

        package var erased: Set<Int64> { Set(footprints.filter { $0.value.erased }.keys) }
        package var visible: Set<Int64> { Set(footprints.filter { !$0.value.erased }.keys) }
        package var importedCustomers: Int { imports.values.filter { $0.kind == "customers" }.map(\.accepted).reduce(0, +) }
    }

    /// Reads the file and checks the invariants that hold whatever was killed (open it read-only).
    package func storeState() throws -> StoreState {
        try reading(Self.sealedValues) { db in
            var state = StoreState()
            func problem(_ text: String) { state.problems.append(text) }
            func count(_ sql: String) throws -> Int { try Int.fetchOne(db, sql: sql) ?? 0 }

            let integrity = try String.fetchAll(db, sql: "PRAGMA integrity_check")
            if integrity != ["ok"] { problem("PRAGMA integrity_check: \(integrity.prefix(3).joined(separator: "; "))") }
            let foreignKeys = try Row.fetchAll(db, sql: "PRAGMA foreign_key_check")
            if let first = foreignKeys.first { problem("PRAGMA foreign_key_check: \(foreignKeys.count) rows, first in \(first[0] as String? ?? "?")") }

            for row in try Row.fetchAll(db, sql: "SELECT id, erased_at IS NOT NULL AS erased, attributes <> '{}' AS attributes FROM customers") {
                state.footprints[row["id"]] = Footprint(erased: row["erased"], hasAttributes: row["attributes"])
            }
            func add(_ what: String, _ sql: String, _ field: WritableKeyPath<Footprint, Int>) throws {
                for row in try Row.fetchAll(db, sql: sql) {
                    let id: Int64 = row[0], n: Int = row[1]
                    if state.footprints[id] != nil { state.footprints[id]![keyPath: field] = n } else { problem("\(n) \(what) of customer \(id), which does not exist") }
                }
            }
            try add("sealed values", "SELECT record_id, count(*) FROM sealed_values WHERE entity = 'customers' GROUP BY record_id", \.sealed)
            // The last 16 bytes of an envelope are its authentication tag: new with every encryption.
            let sealed = try Row.fetchCursor(db, sql: """
                SELECT record_id, field, key_version, substr(sealed, -16) AS sealed, substr(masked, -16) AS masked
                FROM sealed_values WHERE entity = 'customers'
                """)
            while let row = try sealed.next() {
                var hasher = Hasher()
                hasher.combine(row["field"] as String)
                hasher.combine(row["key_version"] as Int)
                hasher.combine(row["sealed"] as Data)
                hasher.combine(row["masked"] as Data?)
                state.footprints[row["record_id"]]?.sealedHash &+= hasher.finalize()
            }
            try add("unique index entries", "SELECT customer_id, count(*) FROM unique_indexes GROUP BY customer_id", \.uniqueEntries)
            try add("blind index entries", "SELECT customer_id, count(*) FROM blind_indexes GROUP BY customer_id", \.blindEntries)
            try add("transactions", "SELECT customer_id, count(*) FROM transactions GROUP BY customer_id", \.transactions)
            try add("interactions", "SELECT customer_id, count(*) FROM interactions GROUP BY customer_id", \.interactions)
            try add("behaviour rows", "SELECT customer_id, count(*) FROM behaviour GROUP BY customer_id", \.behaviour)
            try add("consent events", "SELECT customer_id, count(*) FROM consent_events GROUP BY customer_id", \.consentEvents)
            try add("transaction sealed values", """
                SELECT t.customer_id, count(*) FROM sealed_values s JOIN transactions t ON t.id = s.record_id
                WHERE s.entity = 'transactions' GROUP BY t.customer_id
                """, \.transactionSealed)
            try add("interaction sealed values", """
                SELECT i.customer_id, count(*) FROM sealed_values s JOIN interactions i ON i.id = s.record_id
                WHERE s.entity = 'interactions' GROUP BY i.customer_id
                """, \.interactionSealed)
            let orphans = try count("""
                SELECT count(*) FROM sealed_values s WHERE
                    (s.entity = 'customers' AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.id = s.record_id))
                 OR (s.entity = 'transactions' AND NOT EXISTS (SELECT 1 FROM transactions t WHERE t.id = s.record_id))
                 OR (s.entity = 'interactions' AND NOT EXISTS (SELECT 1 FROM interactions i WHERE i.id = s.record_id))
                """)
            if orphans > 0 { problem("\(orphans) sealed values belong to no record") }

            // Erasure: all or nothing, and recorded in the ledger.
            state.ledger = Set(try Int64.fetchAll(db, sql: "SELECT customer_id FROM erasure_ledger"))
            for (id, footprint) in state.footprints where footprint.erased {
                var empty = Footprint(erased: true)
                empty.transactions = footprint.transactions  // kept pseudonymised (policy)
                if footprint != empty { problem("erased customer \(id) still holds data: \(footprint)") }
            }
            if state.ledger != state.erased {
                problem("the erasure ledger (\(state.ledger.count) ids) does not match the erased customers (\(state.erased.count)): "
                        + "\(state.ledger.symmetricDifference(state.erased).sorted().prefix(5))")
            }

            // Every live customer: its required values, and a unique (e-mail) index entry under the
            // version its e-mail is sealed with, at most one per version.
            let incomplete = try Int64.fetchAll(db, sql: """
                SELECT c.id FROM customers c WHERE c.erased_at IS NULL AND
                    (SELECT count(*) FROM sealed_values s WHERE s.entity = 'customers' AND s.record_id = c.id AND s.field IN ('name', 'email')) <> 2
                """)
            if !incomplete.isEmpty { problem("\(incomplete.count) live customers lack a sealed name or e-mail, e.g. \(incomplete.prefix(5))") }
            let unindexed = try Int64.fetchAll(db, sql: """
                SELECT c.id FROM customers c JOIN sealed_values s ON s.entity = 'customers' AND s.record_id = c.id AND s.field = 'email'
                WHERE c.erased_at IS NULL AND NOT EXISTS (
                    SELECT 1 FROM unique_indexes u WHERE u.customer_id = c.id AND u.field = 'email' AND u.key_version = s.key_version)
                """)
            if !unindexed.isEmpty { problem("\(unindexed.count) customers have no unique index entry for their e-mail's key version, e.g. \(unindexed.prefix(5))") }
            let doubled = try count("SELECT count(*) FROM (SELECT 1 FROM unique_indexes GROUP BY customer_id, field, key_version HAVING count(*) > 1)")
            if doubled > 0 { problem("\(doubled) customers hold two unique index entries of one field and key version") }

            // Keys: every value under a live key; principals hold exactly their role's keys.
            var live: Set<String> = []  // "field purpose version" of every live key
            var newest: [String: Int] = [:]  // "field purpose" -> newest live version
            for row in try Row.fetchAll(db, sql: "SELECT field, purpose, version FROM data_keys WHERE retired_at IS NULL") {
                let scope = "\(row["field"] as String) \(row["purpose"] as String)", version: Int = row["version"]
                live.insert("\(scope) \(version)")
                newest[scope] = max(newest[scope] ?? 0, version)
            }
            for (table, purpose, sql) in [
                ("sealed_values", "seal", "SELECT entity || '.' || field, key_version, count(*) FROM sealed_values GROUP BY entity, field, key_version"),
                ("unique_indexes", "index", "SELECT 'customers.' || field, key_version, count(*) FROM unique_indexes GROUP BY field, key_version"),
                ("blind_indexes", "index", "SELECT 'customers.' || field, key_version, count(*) FROM blind_indexes GROUP BY field, key_version"),
            ] {
                for row in try Row.fetchAll(db, sql: sql) {
                    let scope = "\(row[0] as String) \(purpose)", version: Int = row[1], n: Int = row[2]
                    if !live.contains("\(scope) \(version)") { problem("\(n) rows of \(table) are under a missing or retired key (\(scope) v\(version))") }
                    if version < newest[scope] ?? 0 { state.onOlderVersions += n }
                }
            }
            state.sealedValues = try count("SELECT count(*) FROM sealed_values")
            let liveKeys = Set(try Int64.fetchAll(db, sql: "SELECT id FROM data_keys WHERE retired_at IS NULL"))
            state.liveKeyVersions = liveKeys.count
            var grants: [Int64: Set<Int64>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT principal_id, key_id FROM key_grants") {
                grants[row["principal_id"], default: []].insert(row["key_id"])
            }
            for row in try Row.fetchAll(db, sql: "SELECT id, name, role, attributes, disabled FROM principals") {
                let name: String = row["name"]
                state.principals[name] = PrincipalRow(role: row["role"], attributes: row["attributes"], disabled: row["disabled"],
                                                      grants: grants[row["id"]] ?? [])
            }
            var byRole: [String: Set<Int64>] = [:]
            for (name, principal) in state.principals.sorted(by: { $0.key < $1.key }) {
                if principal.disabled {
                    if !principal.grants.isEmpty { problem("disabled principal \(name) still holds \(principal.grants.count) keys") }
                    continue
                }
                if principal.role == "admin" && principal.grants != liveKeys {
                    problem("key custodian \(name) holds \(principal.grants.count) keys, not all \(liveKeys.count) live ones")
                }
                if !principal.grants.isSubset(of: liveKeys) { problem("principal \(name) holds a retired or missing key") }
                let group = principal.role + " " + principal.attributes
                if let first = byRole[group], first != principal.grants {
                    problem("principal \(name) holds other keys (\(principal.grants.count)) than another \(principal.role) with the same attributes (\(first.count))")
                }
                byRole[group] = byRole[group] ?? principal.grants
            }
            let behind = try count("""
                SELECT count(*) FROM (SELECT 1 FROM principals p JOIN key_grants g ON g.principal_id = p.id JOIN data_keys k ON k.id = g.key_id
                    WHERE p.disabled = 0 AND k.retired_at IS NULL GROUP BY p.id, k.field, k.purpose
                    HAVING max(k.version) < (SELECT max(d.version) FROM data_keys d WHERE d.field = k.field AND d.purpose = k.purpose AND d.retired_at IS NULL))
                """)
            if behind > 0 { problem("\(behind) (principal, key) pairs lack the newest key version") }

            state.unfinishedRotations = try count("SELECT count(*) FROM key_rotations WHERE finished_at IS NULL")
            state.finishedRotations = try count("SELECT count(*) FROM key_rotations WHERE finished_at IS NOT NULL")
            if state.unfinishedRotations > 1 { problem("\(state.unfinishedRotations) rotations are unfinished at once") }

            // Import progress: every record up to records_done accepted or refused, and each refusal listed.
            var rejects: [Data: Set<Int>] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT file_digest, record FROM import_rejects") {
                rejects[row["file_digest"], default: []].insert(row["record"])
            }
            for row in try Row.fetchAll(db, sql: "SELECT file_digest, kind, records_done, accepted, rejected, already_stored, finished_at IS NOT NULL AS finished FROM imports") {
                let digest: Data = row["file_digest"]
                let progress = ImportProgress(kind: row["kind"], recordsDone: row["records_done"], accepted: row["accepted"], rejected: row["rejected"],
                                              finished: row["finished"], rejects: rejects[digest] ?? [])
                if progress.rejects.count != progress.rejected { problem("an import counts \(progress.rejected) refused rows but lists \(progress.rejects.count)") }
                // A row whose e-mail another file stored already is counted as already stored.
                let alreadyStored: Int = row["already_stored"]
                if progress.accepted + progress.rejected + alreadyStored != progress.recordsDone - 1 {
                    problem("an import at record \(progress.recordsDone) accounts for \(progress.accepted) + \(progress.rejected) + \(alreadyStored) records")
                }
                if let last = progress.rejects.max(), last > progress.recordsDone { problem("an import lists a refused record past its progress") }
                state.imports[digest] = progress
            }
            state.auditEntries = try count("SELECT count(*) FROM audit_log")
            return state
        }
    }
}
