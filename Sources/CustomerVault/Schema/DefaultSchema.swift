// The schema `cvault init` uses when no --schema is given. A test keeps it identical to
// policies/schema.yaml, which is the copy people read and edit.
extension Schema {
    /// The shipped default schema text (policies/schema.yaml).
    public static let defaultYAML = #"""
# Customer vault schema: which fields exist, how each is protected and validated.
#
# Add a field by adding an entry here; no code changes are needed. Existing fields must not be
# renamed (their name is bound into every ciphertext) — add a new one and migrate instead.
#
# class:      personal  -> sealed with XChaCha20-Poly1305 under a per-field key before it reaches SQLite
#             plain     -> stored in clear (non-personal attributes used for aggregates and row conditions)
# type:       text | email | phone | date (YYYY-MM-DD) | timestamp (ISO 8601 UTC) | integer | decimal
#             | boolean | enum (with `values`)
# search:     equality search through a keyed BLAKE2b blind index. `index_bits` truncates the index
#             (leakage budget: for R records about R / 2^bits share one index value; aim for at least 2
#             and well below sqrt(R) at `expected_records`). A `unique` field keeps a full 128-bit index,
#             so duplicates are refused without decryption; since each value occurs once, it shows no
#             equality between stored records.
# mask:       the masked view offered to roles granted `masked` (issue: role policies):
#             email (j***@example.com) | last4 (***-***-1234) | initial (J.) | prefix (first N chars)
# max_length: in Unicode scalars, after normalisation.
format: 1
expected_records: 1000000
phone_default_country_code: "44"

customers:
  name:       { class: personal, type: text,  required: true, max_length: 200, search: { normalize: name, index_bits: 16 }, mask: initial }
  email:      { class: personal, type: email, required: true, max_length: 254, unique: true, search: { normalize: email }, mask: email }
  phone:      { class: personal, type: phone, max_length: 32, search: { normalize: phone, index_bits: 16 }, mask: last4 }
  address:    { class: personal, type: text,  max_length: 500, mask: { prefix: 3 } }
  age:        { class: personal, type: integer, min: 0, max: 130 }
  birth_date: { class: personal, type: date }
  gender:     { class: personal, type: text,  max_length: 50 }
  region:     { class: plain,    type: enum,  values: [EU, UK, US, APAC, LATAM] }
  marketing_consent: { class: plain, type: boolean }
  # Example of a custom field (uncomment to use):
  # tax_id:       { class: personal, type: text, max_length: 20, pattern: "^[A-Z0-9]{6,20}$" }
  # loyalty_tier: { class: plain, type: enum, values: [bronze, silver, gold] }

transactions:
  order_id:       { class: plain, type: text, required: true, max_length: 64 }
  order_time:     { class: plain, type: timestamp, required: true }
  payment_method: { class: plain, type: enum, required: true, values: [card, paypal, bank_transfer, cash, gift_card] }
  amount:         { class: plain, type: decimal, required: true, min: 0, max: 100000000 }
  currency:       { class: plain, type: text, max_length: 3, pattern: "^[A-Z]{3}$" }

interactions:
  occurred_at: { class: plain,    type: timestamp, required: true }
  channel:     { class: plain,    type: enum, required: true, values: [email, phone, chat, store, social] }
  summary:     { class: personal, type: text, required: true, max_length: 10000 }
"""#

    /// The shipped default schema, parsed.
    public static func shippedDefault() throws -> Schema { try load(yaml: defaultYAML, fileName: "default schema") }
}
