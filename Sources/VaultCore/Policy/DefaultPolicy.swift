// The policy `cvault init` stores when no --policy is given. A test keeps it identical to
// policies/default.yaml, which is the copy people read and edit.
extension Policy {
    /// The shipped default policy text (policies/default.yaml).
    public static let defaultYAML = #"""
# Customer vault access policy: who may do what with which field.
#
# Deny by default: an action, field view, write or search not granted here is refused.
# An explicit `deny` wins over any `allow` (including a wildcard one).
#
# purposes:  names a request may give with --purpose NAME [--reason TEXT]; the purpose (and reason)
#            go into the access log. An allow entry with `purposes` is refused without one of them.
# roles.R.allow:  actions, as names, wildcards (`customer.*`, `*`) or { action: A, purposes: [..] }.
#            customer.create|read|search|list|update|delete, import, export,
#            transaction.read|write, interaction.read|write, behaviour.read|write, report.aggregate,
#            vault.backup, vault.restore, vault.verify, keys.rotate, principals.manage, audit.read,
#            subject.export, subject.erase
# roles.R.deny:   actions refused even where an allow matches.
# roles.R.fields: per field (`customers.email`, `customers.*`, `*`):
#            view:   plain (full value) | masked (the schema's mask, e.g. j***@example.com) | none
#            write:  true to write new values (a write-only role cannot read them back, not even its own)
#            search: true to search by the field (needs a blind index in the schema)
#            A specific field entry overrides a wildcard one. Plain attributes (region, consent flags,
#            transaction amounts) are stored in clear and visible with any read action; only `write`
#            applies to them, and (format 2) writing one needs it, like a personal field.
# roles.R.rows:   conditions on plain customer attributes, all of which must hold for a customer to be
#            visible: { attribute: region, in_principal: regions } compares with the principal's
#            attribute (`cvault principal add NAME --role R --attr regions=EU,UK`);
#            { attribute: marketing_consent, equals: "true" } with a fixed value. Rows that fail are
#            invisible: left out of searches, lists and exports, and "not found" when asked for by id.
#
# erasure.transactions: what `cvault customer erase` does with the customer's transactions:
#            keep_pseudonymised (kept for accounting, with no personal value, owned by the erased id) or remove.
# retention: how long each kind of data is kept, as Nd, Nm or Ny (`cvault retention apply [--dry-run]`):
#            interactions (by occurred_at), transactions (by order_time), inactive_customers (no update,
#            transaction or interaction since; they are erased as by `customer erase`). Unlisted kinds are kept.
#
# Keys enforce the views, not only code: each principal's keyring holds the seal key of a field only
# for `view: plain`, the mask key only for `masked`, the index key only for `search` (or `write` on a
# searchable field, to refuse duplicates), and for a write without a plain view only a public key to
# seal to. A role allowed principals.manage is a key custodian and holds every key. Purposes and row
# conditions are enforced by the library's code (see SECURITY.md, "Policies and keys").
format: 2

erasure:
  transactions: keep_pseudonymised

retention:
  interactions: 2y
  transactions: 10y
  inactive_customers: 5y

purposes:
  support_ticket: Answering a request the customer made (ticket, call, chat)
  fraud_investigation: Investigating suspected fraud on an account
  legal_request: A court order or a request from a regulator
  subject_request: A data subject's own access or erasure request (GDPR articles 15 and 17)

roles:
  admin:
    description: Key custodian. Manages principals, policies, rotation, backup and restore; reads everything.
    allow: ["*"]
    deny: [subject.erase]
    fields:
      "*": { view: plain, write: true, search: true }

  support:
    description: Support agents. Contact details in full while working a ticket, address masked, only their regions.
    allow:
      - { action: customer.read, purposes: [support_ticket, fraud_investigation] }
      - { action: customer.search, purposes: [support_ticket, fraud_investigation] }
      - { action: customer.list, purposes: [support_ticket, fraud_investigation] }
      - { action: export, purposes: [fraud_investigation] }
      - customer.update
      - transaction.read
      - interaction.read
      - interaction.write
      - behaviour.read
    deny: [customer.delete, subject.erase]
    fields:
      customers.name: { view: plain, write: true, search: true }
      customers.email: { view: plain, write: true, search: true }
      customers.phone: { view: plain, write: true, search: true }
      customers.address: { view: masked, write: true }
      interactions.*: { write: true }
    rows:
      - { attribute: region, in_principal: regions }

  marketing:
    description: Campaign team. E-mail addresses of consenting customers, and aggregates.
    allow: [customer.list, export, report.aggregate]
    fields:
      customers.email: { view: plain }
    rows:
      - { attribute: marketing_consent, equals: "true" }

  analyst:
    description: Analysts. No personal data at all; counts and sums over regions, age bands, orders, behaviour.
    allow: [report.aggregate]

  auditor:
    description: Internal or external auditors. The access log only.
    allow: [audit.read]

  backup_operator:
    description: Operations staff and backup jobs. Make encrypted backups they cannot open (the backup public key only).
    allow: [vault.backup]

  intake:
    description: Sign-up forms and contact forms. Writes customers and interactions; reads nothing back.
    allow: [customer.create, interaction.write, import]
    fields:
      customers.*: { write: true }
      interactions.*: { write: true }

  dpo:
    description: Data-protection officer. Subject access exports and erasure, with a stated purpose.
    allow:
      - { action: customer.search, purposes: [subject_request, legal_request] }
      - { action: customer.read, purposes: [subject_request, legal_request] }
      - { action: subject.export, purposes: [subject_request, legal_request] }
      - { action: subject.erase, purposes: [subject_request, legal_request] }
      - audit.read
    fields:
      "*": { view: plain, search: true }
"""#

    /// The shipped default policy, parsed against a schema.
    public static func shippedDefault(schema: Schema) throws -> Policy {
        try load(yaml: defaultYAML, schema: schema, fileName: "default policy")
    }
}
