import Foundation
package import GRDB
import VaultCore

/// Append-only schema migrations. Never edit a registered migration: add a new one.
package enum Migrations {
    /// What a long migration reports: a description, and how far it is (done of total).
    package typealias Progress = @Sendable (_ step: String, _ done: Int, _ total: Int) -> Void

    package static var migrator: DatabaseMigrator { migrator(progress: nil) }

    /// The migrations, reporting the progress of those that move data.
    package static func migrator(progress: Progress?) -> DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-core") { db in
            try db.execute(sql: """
                CREATE TABLE vault_meta (
                    name  TEXT PRIMARY KEY,
                    value BLOB NOT NULL
                ) WITHOUT ROWID;

                CREATE TABLE principals (
                    id                 INTEGER PRIMARY KEY,
                    name               TEXT NOT NULL UNIQUE,
                    role               TEXT NOT NULL,
                    attributes         TEXT NOT NULL DEFAULT '{}',
                    box_public_key     BLOB NOT NULL,
                    sign_public_key    BLOB NOT NULL,
                    credential_kind    TEXT NOT NULL,
                    kdf_salt           BLOB NOT NULL,
                    kdf_ops            INTEGER,
                    kdf_mem            INTEGER,
                    credential_check   BLOB NOT NULL,
                    wrapped_secrets    BLOB NOT NULL,
                    credential_version INTEGER NOT NULL DEFAULT 1,
                    disabled           INTEGER NOT NULL DEFAULT 0,
                    created_at         TEXT NOT NULL
                );

                CREATE TABLE data_keys (
                    id         INTEGER PRIMARY KEY,
                    field      TEXT NOT NULL,
                    purpose    TEXT NOT NULL,
                    version    INTEGER NOT NULL,
                    public_key BLOB,
                    created_at TEXT NOT NULL,
                    retired_at TEXT,
                    UNIQUE (field, purpose, version)
                );

                CREATE TABLE key_grants (
                    principal_id INTEGER NOT NULL REFERENCES principals(id) ON DELETE CASCADE,
                    key_id       INTEGER NOT NULL REFERENCES data_keys(id) ON DELETE CASCADE,
                    sealed_key   BLOB NOT NULL,
                    signature    BLOB NOT NULL,
                    PRIMARY KEY (principal_id, key_id)
                ) WITHOUT ROWID;

                -- AUTOINCREMENT: a record id is never reused, because it is bound into ciphertexts; a
                -- reused id would let an old copy's envelope open in a new record's slot.
                CREATE TABLE customers (
                    id         INTEGER PRIMARY KEY AUTOINCREMENT,
                    created_at TEXT NOT NULL,
                    updated_at TEXT NOT NULL,
                    attributes TEXT NOT NULL DEFAULT '{}'
                );

                CREATE TABLE transactions (
                    id          INTEGER PRIMARY KEY AUTOINCREMENT,
                    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    created_at  TEXT NOT NULL,
                    attributes  TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX transactions_by_customer ON transactions(customer_id);

                CREATE TABLE interactions (
                    id          INTEGER PRIMARY KEY AUTOINCREMENT,
                    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    created_at  TEXT NOT NULL,
                    attributes  TEXT NOT NULL DEFAULT '{}'
                );
                CREATE INDEX interactions_by_customer ON interactions(customer_id);

                CREATE TABLE behaviour (
                    customer_id    INTEGER PRIMARY KEY REFERENCES customers(id) ON DELETE CASCADE,
                    browse_count   INTEGER NOT NULL DEFAULT 0,
                    purchase_count INTEGER NOT NULL DEFAULT 0,
                    review_count   INTEGER NOT NULL DEFAULT 0,
                    updated_at     TEXT NOT NULL
                );

                -- One row per personal value: the full view and, where the schema masks the field,
                -- the masked view, each sealed under its own key.
                CREATE TABLE sealed_values (
                    entity      TEXT NOT NULL,
                    record_id   INTEGER NOT NULL,
                    field       TEXT NOT NULL,
                    key_version INTEGER NOT NULL,
                    sealed      BLOB NOT NULL,
                    masked      BLOB,
                    PRIMARY KEY (entity, record_id, field)
                ) WITHOUT ROWID;
                CREATE INDEX sealed_values_by_key ON sealed_values(entity, field, key_version);

                CREATE TABLE blind_indexes (
                    field       TEXT NOT NULL,
                    key_version INTEGER NOT NULL,
                    digest      BLOB NOT NULL,
                    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    PRIMARY KEY (field, key_version, digest, customer_id)
                ) WITHOUT ROWID;
                CREATE INDEX blind_indexes_by_customer ON blind_indexes(customer_id);

                -- Full-length indexes of unique fields: the primary key refuses duplicates
                -- without any decryption.
                CREATE TABLE unique_indexes (
                    field       TEXT NOT NULL,
                    key_version INTEGER NOT NULL,
                    digest      BLOB NOT NULL,
                    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    PRIMARY KEY (field, key_version, digest)
                ) WITHOUT ROWID;
                CREATE INDEX unique_indexes_by_customer ON unique_indexes(customer_id);

                -- Sealed values have no foreign key (one table serves every entity): triggers
                -- remove them with their record, including through ON DELETE CASCADE.
                CREATE TRIGGER customers_drop_sealed AFTER DELETE ON customers BEGIN
                    DELETE FROM sealed_values WHERE entity = 'customers' AND record_id = OLD.id;
                END;
                CREATE TRIGGER transactions_drop_sealed AFTER DELETE ON transactions BEGIN
                    DELETE FROM sealed_values WHERE entity = 'transactions' AND record_id = OLD.id;
                END;
                CREATE TRIGGER interactions_drop_sealed AFTER DELETE ON interactions BEGIN
                    DELETE FROM sealed_values WHERE entity = 'interactions' AND record_id = OLD.id;
                END;

                -- Progress of resumable imports, keyed by the BLAKE2b digest of the file.
                CREATE TABLE imports (
                    file_digest  BLOB PRIMARY KEY,
                    kind         TEXT NOT NULL,
                    records_done INTEGER NOT NULL,
                    accepted     INTEGER NOT NULL,
                    rejected     INTEGER NOT NULL,
                    started_at   TEXT NOT NULL,
                    updated_at   TEXT NOT NULL,
                    finished_at  TEXT
                ) WITHOUT ROWID;

                -- Refused import rows: position and reason only, never the row's content.
                CREATE TABLE import_rejects (
                    file_digest BLOB NOT NULL REFERENCES imports(file_digest) ON DELETE CASCADE,
                    record      INTEGER NOT NULL,
                    line        INTEGER NOT NULL,
                    field       TEXT NOT NULL,
                    reason      TEXT NOT NULL,
                    PRIMARY KEY (file_digest, record)
                ) WITHOUT ROWID;

                -- Access log: hash-chained, each entry signed by the acting principal.
                CREATE TABLE audit_log (
                    seq        INTEGER PRIMARY KEY,
                    at         TEXT NOT NULL,
                    principal  TEXT NOT NULL,
                    role       TEXT NOT NULL,
                    action     TEXT NOT NULL,
                    purpose    TEXT,
                    target     TEXT NOT NULL,
                    fields     TEXT NOT NULL,
                    outcome    TEXT NOT NULL,
                    detail     TEXT NOT NULL,
                    prev_hash  BLOB NOT NULL,
                    hash       BLOB NOT NULL,
                    signature  BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v2-policy") { db in
            try db.execute(sql: """
                -- The root key's signature over (name, role, attributes, public keys): a role edited in
                -- the file no longer verifies.
                ALTER TABLE principals ADD COLUMN certificate BLOB;

                -- Session keys of write-only principals, sealed to a field's write public key and signed
                -- by the writer. Envelopes of format 2 name their session.
                CREATE TABLE write_sessions (
                    id           INTEGER PRIMARY KEY AUTOINCREMENT,
                    principal_id INTEGER NOT NULL REFERENCES principals(id),
                    field        TEXT NOT NULL,
                    purpose      TEXT NOT NULL,
                    key_version  INTEGER NOT NULL,
                    sealed_key   BLOB NOT NULL,
                    signature    BLOB NOT NULL,
                    created_at   TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v3-audit") { db in
            try db.execute(sql: """
                -- Entries of format 2 also hash the signer's public key, reason, error code, policy
                -- hash and search-term digests (see AuditTrail).
                ALTER TABLE audit_log ADD COLUMN format      INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE audit_log ADD COLUMN reason      TEXT;
                ALTER TABLE audit_log ADD COLUMN error_code  TEXT NOT NULL DEFAULT '';
                ALTER TABLE audit_log ADD COLUMN policy_hash TEXT NOT NULL DEFAULT '';
                ALTER TABLE audit_log ADD COLUMN terms       TEXT NOT NULL DEFAULT '';
                CREATE INDEX audit_log_by_principal ON audit_log(principal, seq);
                CREATE INDEX audit_log_by_action ON audit_log(action, seq);
                """)
        }
        migrator.registerMigration("v4-rotation") { db in
            try db.execute(sql: """
                -- One row per key rotation; an unfinished one (finished_at NULL) is resumed
                -- (rotateKeys with resume). The re-encryption itself is idempotent: it works
                -- through the values still under an older version.
                CREATE TABLE key_rotations (
                    id          INTEGER PRIMARY KEY AUTOINCREMENT,
                    fields      TEXT NOT NULL,
                    started_by  TEXT NOT NULL,
                    started_at  TEXT NOT NULL,
                    finished_at TEXT
                );
                """)
        }
        migrator.registerMigration("v5-rotation-scan") { db in
            // Rotation walks sealed_values in primary-key order; this index only cost every write.
            try db.execute(sql: "DROP INDEX sealed_values_by_key")
        }
        migrator.registerMigration("v6-erasure") { db in
            try db.execute(sql: """
                -- An erased customer stays as a row without any personal value or attribute, so
                -- retained transactions keep a (pseudonymous) owner and the id is never reused.
                ALTER TABLE customers ADD COLUMN erased_at TEXT;

                -- Erasures, without personal data: re-applied to any older backup that is restored.
                CREATE TABLE erasure_ledger (
                    seq          INTEGER PRIMARY KEY,
                    customer_id  INTEGER NOT NULL UNIQUE,
                    erased_at    TEXT NOT NULL,
                    principal    TEXT NOT NULL,
                    purpose      TEXT,
                    transactions TEXT NOT NULL,
                    removed      TEXT NOT NULL
                );
                """)
        }
        migrator.registerMigration("v7-consent") { db in
            try db.execute(sql: """
                -- When each consent flag (a plain `*_consent` attribute) was given or withdrawn.
                CREATE TABLE consent_events (
                    id          INTEGER PRIMARY KEY,
                    customer_id INTEGER NOT NULL REFERENCES customers(id) ON DELETE CASCADE,
                    consent     TEXT NOT NULL,
                    granted     INTEGER NOT NULL,
                    at          TEXT NOT NULL
                );
                CREATE INDEX consent_events_by_customer ON consent_events(customer_id, id);
                """)
        }
        migrator.registerMigration("v8-integrity") { db in
            try db.execute(sql: """
                -- Record integrity (SECURITY.md §4c): each row the vault trusts carries a tag, keyed
                -- BLAKE2b under the vault's record key. Records commit to the exact bytes of their sealed
                -- values (sealed_digest) and customers to their blind-index digests (so index entries need
                -- no tag of their own). NULL only in a vault made before this migration until a key
                -- custodian's first open tags every row.
                ALTER TABLE customers ADD COLUMN sealed_digest BLOB;
                ALTER TABLE customers ADD COLUMN index_digests BLOB;
                ALTER TABLE customers ADD COLUMN tag BLOB;
                ALTER TABLE transactions ADD COLUMN sealed_digest BLOB;
                ALTER TABLE transactions ADD COLUMN tag BLOB;
                ALTER TABLE interactions ADD COLUMN sealed_digest BLOB;
                ALTER TABLE interactions ADD COLUMN tag BLOB;
                ALTER TABLE behaviour ADD COLUMN tag BLOB;
                ALTER TABLE consent_events ADD COLUMN tag BLOB;
                ALTER TABLE imports ADD COLUMN tag BLOB;
                ALTER TABLE import_rejects ADD COLUMN tag BLOB;
                ALTER TABLE key_rotations ADD COLUMN tag BLOB;
                ALTER TABLE data_keys ADD COLUMN tag BLOB;

                -- A credential change gives a principal new key pairs: version 1 is anchored by the
                -- root-signed certificate, each later version is endorsed by the one before and signs
                -- access-log entries from `from_seq` on.
                ALTER TABLE principals ADD COLUMN key_version INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE principals ADD COLUMN disabled_at_seq INTEGER;
                CREATE TABLE principal_keys (
                    principal_id    INTEGER NOT NULL REFERENCES principals(id),
                    version         INTEGER NOT NULL,
                    box_public_key  BLOB NOT NULL,
                    sign_public_key BLOB NOT NULL,
                    from_seq        INTEGER NOT NULL,
                    endorsement     BLOB,
                    PRIMARY KEY (principal_id, version)
                ) WITHOUT ROWID;
                INSERT INTO principal_keys (principal_id, version, box_public_key, sign_public_key, from_seq)
                    SELECT id, 1, box_public_key, sign_public_key, 1 FROM principals;

                -- Grants of format 2 are signed over a commitment to the key, not the sealed bytes, so
                -- their holder can seal them again to new key pairs.
                ALTER TABLE key_grants ADD COLUMN format INTEGER NOT NULL DEFAULT 1;

                -- Sessions of format 2 name the policy in force when they were started; a disabled
                -- writer's sessions are countersigned by the root key.
                ALTER TABLE write_sessions ADD COLUMN format INTEGER NOT NULL DEFAULT 1;
                ALTER TABLE write_sessions ADD COLUMN policy_hash TEXT;
                ALTER TABLE write_sessions ADD COLUMN root_signature BLOB;

                -- Every policy ever in force, root-signed, by the hash access-log entries and write
                -- sessions name.
                CREATE TABLE policy_history (
                    hash      TEXT PRIMARY KEY,
                    source    TEXT NOT NULL,
                    signature BLOB NOT NULL,
                    stored_at TEXT NOT NULL
                ) WITHOUT ROWID;

                -- Erasures are signed by the principal that made them (signer_proof: its certificate and
                -- key chain, so the entry verifies against the root key alone).
                ALTER TABLE erasure_ledger ADD COLUMN audit_seq INTEGER;
                ALTER TABLE erasure_ledger ADD COLUMN signed_by TEXT;
                ALTER TABLE erasure_ledger ADD COLUMN signature BLOB;
                ALTER TABLE erasure_ledger ADD COLUMN signer_proof TEXT;
                """)
            // The policy in force is already root-signed; it starts the history.
            if let text = try String.fetchOne(db, sql: "SELECT CAST(value AS TEXT) FROM vault_meta WHERE name = 'policy'"),
               let signature = try Data.fetchOne(db, sql: "SELECT value FROM vault_meta WHERE name = 'policy_signature'") {
                try db.execute(sql: "INSERT INTO policy_history (hash, source, signature, stored_at) VALUES (?, ?, ?, ?)",
                               arguments: [AuditChain.policyHash(text), text, signature, Timestamps.now()])
            }
        }
        migrator.registerMigration("v9-natural-keys") { db in
            try db.execute(sql: """
                -- Natural keys (plain unique fields, such as a transaction's order_id): a row whose key
                -- is stored already is not stored again. An entry is trusted only after the record it
                -- names is found to hold its value (that record's row is tagged); verification checks
                -- that every record has its entries and every entry its record.
                CREATE TABLE natural_keys (
                    entity    TEXT NOT NULL,
                    field     TEXT NOT NULL,
                    value     TEXT NOT NULL,
                    record_id INTEGER NOT NULL,
                    PRIMARY KEY (entity, field, value)
                ) WITHOUT ROWID;
                CREATE INDEX natural_keys_by_record ON natural_keys(entity, record_id);
                CREATE TRIGGER customers_drop_natural_keys AFTER DELETE ON customers BEGIN
                    DELETE FROM natural_keys WHERE entity = 'customers' AND record_id = OLD.id;
                END;
                CREATE TRIGGER transactions_drop_natural_keys AFTER DELETE ON transactions BEGIN
                    DELETE FROM natural_keys WHERE entity = 'transactions' AND record_id = OLD.id;
                END;
                CREATE TRIGGER interactions_drop_natural_keys AFTER DELETE ON interactions BEGIN
                    DELETE FROM natural_keys WHERE entity = 'interactions' AND record_id = OLD.id;
                END;

                -- Rows of an import that matched a stored record by natural key.
                ALTER TABLE imports ADD COLUMN already_stored INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v10-upsert") { db in
            // Rows of an upsert import that changed the stored record with their natural key.
            try db.execute(sql: "ALTER TABLE imports ADD COLUMN updated INTEGER NOT NULL DEFAULT 0")
        }
        migrator.registerMigration("v11-index-entries") { db in
            // Blind-index entries are found for update and delete through the digests each customer
            // row commits to (issue #19), by primary key: the by-customer secondary indexes and the
            // foreign keys that needed them (a cascade scans without one) cost two B-tree writes per
            // entry. Entries a rotation superseded and had not yet dropped (an entry under a newer
            // version of the same customer and field exists) go: a rotation now drops each old
            // entry as it writes the new one.
            try db.execute(sql: """
                DELETE FROM blind_indexes WHERE EXISTS (SELECT 1 FROM blind_indexes newer WHERE newer.customer_id = blind_indexes.customer_id
                    AND newer.field = blind_indexes.field AND newer.key_version > blind_indexes.key_version);
                DELETE FROM unique_indexes WHERE EXISTS (SELECT 1 FROM unique_indexes newer WHERE newer.customer_id = unique_indexes.customer_id
                    AND newer.field = unique_indexes.field AND newer.key_version > unique_indexes.key_version);

                CREATE TABLE blind_index_entries (
                    field       TEXT NOT NULL,
                    key_version INTEGER NOT NULL,
                    digest      BLOB NOT NULL,
                    customer_id INTEGER NOT NULL,
                    PRIMARY KEY (field, key_version, digest, customer_id)
                ) WITHOUT ROWID;
                INSERT INTO blind_index_entries SELECT field, key_version, digest, customer_id FROM blind_indexes;
                DROP TABLE blind_indexes;
                ALTER TABLE blind_index_entries RENAME TO blind_indexes;

                CREATE TABLE unique_index_entries (
                    field       TEXT NOT NULL,
                    key_version INTEGER NOT NULL,
                    digest      BLOB NOT NULL,
                    customer_id INTEGER NOT NULL,
                    PRIMARY KEY (field, key_version, digest)
                ) WITHOUT ROWID;
                INSERT INTO unique_index_entries SELECT field, key_version, digest, customer_id FROM unique_indexes;
                DROP TABLE unique_indexes;
                ALTER TABLE unique_index_entries RENAME TO unique_indexes;
                """)
        }
        migrator.registerMigration("v12-record-rows") { db in
            try RecordRowsMigration.run(db, progress: progress)
        }
        return migrator
    }
}
