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
# type:       text | email | phone | date (YYYY-MM-DD) | timestamp (ISO 8601, stored in UTC) | integer
#             | decimal | boolean | country (ISO 3166, stored as GB, DE, …) | enum (with `values`)
# aliases:    other spellings of enum values; values and aliases match regardless of case, accents,
#             spaces, hyphens and underscores ("Bank Transfer" is bank_transfer).
# unique:     on a personal field, checked through its blind index (below); on a plain field, the
#             records' natural key: a row whose key is stored already is not stored again (so an
#             overlapping export imports without counting anything twice).
# default:    the value an optional plain field takes when a new record leaves it empty.
# search:     equality search through a keyed BLAKE2b blind index. `index_bits` truncates the index
#             (leakage budget: for R records about R / 2^bits share one index value; aim for at least 2
#             and well below sqrt(R) at `expected_records`). A `unique` field keeps a full 128-bit index,
#             so duplicates are refused without decryption; since each value occurs once, it shows no
#             equality between stored records.
# mask:       the masked view offered to roles granted `masked`:
#             email (j***@example.com) | last4 (***-***-1234) | initial (J.) | prefix (first N chars)
# max_length: in Unicode scalars, after normalisation.
#
# timezone:        IANA zone in which times written without a zone are read (import --timezone
#                  overrides it); UTC when absent.
# default_country: the country national phone numbers are read in when a record has no country
#                  (import --country overrides it). None here: a number such as 020 7946 0123 is
#                  refused unless its record names a country. A one-country business may set it.
format: 1
expected_records: 1000000
timezone: UTC
# default_country: GB

customers:
  name:       { class: personal, type: text,  required: true, max_length: 200, search: { normalize: name, index_bits: 16 }, mask: initial }
  email:      { class: personal, type: email, required: true, max_length: 254, unique: true, search: { normalize: email }, mask: email }
  phone:      { class: personal, type: phone, max_length: 32, search: { normalize: phone, index_bits: 16 }, mask: last4 }
  address:    { class: personal, type: text,  max_length: 500, mask: { prefix: 3 } }
  age:        { class: personal, type: integer, min: 0, max: 130 }
  birth_date: { class: personal, type: date }
  gender:     { class: personal, type: text,  max_length: 50 }
  region:     { class: plain,    type: enum,  values: [EU, UK, US, APAC, LATAM] }
  country:    { class: plain,    type: country }
  marketing_consent: { class: plain, type: boolean }
  # Example of a custom field (uncomment to use):
  # tax_id:       { class: personal, type: text, max_length: 20, pattern: "^[A-Z0-9]{6,20}$" }
  # loyalty_tier: { class: plain, type: enum, values: [bronze, silver, gold] }

transactions:
  order_id:       { class: plain, type: text, required: true, unique: true, max_length: 64 }
  order_time:     { class: plain, type: timestamp, required: true }
  payment_method:
    class: plain
    type: enum
    required: true
    values: [card, bank_transfer, direct_debit, paypal, wallet, cash, gift_card, invoice]
    aliases:
      card: [credit card, debit card, credit, debit, visa, mastercard, maestro, amex, american express, carte bancaire, kreditkarte, tarjeta, carta di credito]
      bank_transfer: [transfer, wire, wire transfer, bank, sepa transfer, credit transfer, überweisung, virement, bonifico, transferencia]
      direct_debit: [sepa direct debit, debit order, ach, lastschrift, prélèvement, domiciliación]
      paypal: [pay pal]
      wallet: [digital wallet, mobile wallet, apple pay, google pay, samsung pay]
      cash: [cash on delivery, cod, bar, espèces, efectivo, contanti]
      gift_card: [gift certificate, gift voucher, voucher, store credit]
      invoice: [pay by invoice, on account, bill, rechnung, facture, fattura, factura]
  amount:         { class: plain, type: decimal, required: true, min: 0, max: 100000000 }
  # A one-currency business may add `default: EUR` (or its currency), so rows without one count in it.
  currency:       { class: plain, type: text, max_length: 3, pattern: "^[A-Z]{3}$" }

interactions:
  occurred_at: { class: plain,    type: timestamp, required: true }
  channel:
    class: plain
    type: enum
    required: true
    values: [email, phone, sms, chat, meeting, video_call, letter, store, social]
    aliases:
      email: [e mail, email message, newsletter]
      phone: [call, phone call, telephone, voice, inbound call, outbound call]
      sms: [text, text message, mms]
      chat: [live chat, web chat, whatsapp, messenger]
      meeting: [in person, face to face, visit, appointment]
      video_call: [video, video meeting, zoom, teams, google meet]
      letter: [post, postal mail]
      store: [shop, in store, retail, branch]
      social: [social media, twitter, x, facebook, instagram, linkedin, tiktok]
  summary:     { class: personal, type: text, required: true, max_length: 10000 }
"""#

    /// The shipped default schema, parsed.
    public static func shippedDefault() throws -> Schema { try load(yaml: defaultYAML, fileName: "default schema") }
}
