#!/usr/bin/env python3
"""Generate reproducible, synthetic sample data for the customer vault (no real people).

Usage:
    python3 Benchmarks/generate.py --customers N [--seed S] [--invalid-rate R]
                                   [--duplicate-rate D] [--person-duplicate-rate P] --out DIR

Writes, streaming (memory stays constant however large N is):
    DIR/customers.csv               name,age,gender,address,phone,email,birth_date,region,country,marketing_consent
    DIR/transactions.csv            customer_email,order_id,order_time,payment_method,amount,currency
    DIR/interactions.csv            customer_email,occurred_at,channel,summary
    DIR/expected_invalid_rows.txt   "<record number>\t<reason>" for every row broken on purpose
    DIR/expected_duplicate_rows.txt "<record number>\t<record number of the original>"
    DIR/expected_person_duplicates.txt "<record number>\t<record number of the original>\t<link>"
                                    (only with --person-duplicate-rate)

Record numbers are 1-based CSV record numbers; the header is record 1.

N customers are generated. --invalid-rate replaces that fraction of them (exactly round(R * N))
by a row with one defect: malformed_email, age_out_of_range (999), name_too_long (> 200
characters), phone_with_letters or empty_name. --duplicate-rate adds round(D * N) extra rows that
repeat a recent valid customer with the email in another letter case and the phone in another
format (both normalise to the original's). --person-duplicate-rate adds round(P * N) rows
that are the same person as a recent valid customer under another e-mail address, linked by one
of: the phone in another format (link "phone"), the name in another case and spacing with the
same birth date ("name+birth_date"), or with the same address ("name+address"). With it,
originals never share a normalised name with the same birth date or address by chance (such a
row gets its birth date dropped or a flat number added), so every probable-duplicate group in
the data is a planted one. Its randomness is a stream of its own: the other rows are unchanged.
Transactions and interactions reference valid,
original customers only, by the email exactly as written in customers.csv.

Every email is unique (name + counter, on reserved example domains); every phone is unique after
normalisation (the number encodes the customer counter; unique for up to 10 million customers). UK phones may be national ("020 7946
0123", "(0)20-7946-0124"), all others are international; each row's country column (ISO 3166
alpha-2) says how a national number reads.

Python 3 standard library only.
"""

import argparse
import csv
import datetime
import functools
import math
import os
import random
import sys
import time
import unicodedata

# MARK: - Helpers


FOLDED_LETTERS = {"ß": "ss", "ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ł": "l", "đ": "d", "œ": "oe"}


@functools.lru_cache(maxsize=1 << 16)
def fold(text):
    """A Latin name without its accents, as legacy systems store it: "José Núñez" -> "Jose Nunez"."""
    text = "".join(FOLDED_LETTERS.get(ch, ch) for ch in text)
    return "".join(ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch))


def ascii_part(text):
    """An email-safe ASCII form of a Latin name part."""
    return "".join(ch for ch in fold(text) if ch.isascii() and (ch.isalnum() or ch == "-"))


def pick(rng, items):
    return items[rng.below(len(items))]


def prepare(pool):
    """Spell out every entry of a name pool as (female form, male form, ascii), once."""
    def entry(item):
        if isinstance(item, tuple):
            return item if len(item) == 3 else (item[0], item[0], item[1])
        return item, item, ascii_part(item)
    return tuple([entry(item) for item in names] for names in pool)


# MARK: - Names

# Each pool: (female given names, male given names, family names). Entries are (display, ascii)
# where the display is not plain ASCII, otherwise plain strings.
# A family entry may be (female form, male form, ascii) for languages with gendered surnames.

ENGLISH = (
    ["Olivia", "Amelia", "Isla", "Ava", "Emily", "Sophie", "Grace", "Mary-Jane", "Aisha", "Priya",
     ("Niamh", "niamh"), ("Siobhán", "siobhan"), ("Zoë", "zoe"), "Hannah", "Chloe", "Fatima"],
    ["Oliver", "George", "Harry", "Jack", "Noah", "Mohammed", "Arjun", "Liam", ("Seán", "sean"),
     "Daniel", "Kwame", "Oluwaseun", "Thomas", "Yusuf", "Callum", "Rhys"],
    ["Smith", "Jones", "Taylor", "Brown", "Williams", "Wilson", "Davies", "Patel", "Khan", "O'Neil",
     "O'Brien", "McDonald", "Nwosu", "Okafor", "Chen", "Nguyen", "Evans", "Roberts", "Ali",
     "Hughes", "Wright", "Clarke", "Jackson-Smith", "Ó Súilleabháin"],
)
AMERICAN = (
    ["Emma", "Sophia", "Madison", "Jasmine", "Latoya", "Mei", "Guadalupe", "Abigail", "Ashley",
     ("Zoë", "zoe"), "Keisha", "Leilani"],
    ["James", "Michael", "Ethan", "DeShawn", "Carlos", "Tyler", "Wei", "Jamal", "Brandon", "Jacob",
     ("José", "jose"), "Kai"],
    ["Johnson", "Williams", "Garcia", "Rodriguez", "Martinez", "Lee", "Washington", "Kim", "Nguyen",
     "Miller", "Davis", ("Hernández", "hernandez"), "Cohen", "Goldberg", "O'Connor", "Begay"],
)
FRENCH = (
    ["Camille", ("Léa", "lea"), ("Chloé", "chloe"), "Manon", ("Inès", "ines"), ("Zoé", "zoe"),
     ("Hélène", "helene"), ("Amélie", "amelie"), "Anne-Sophie", ("Maëlle", "maelle")],
    ["Lucas", "Hugo", "Louis", ("Théo", "theo"), ("Jérôme", "jerome"), ("François", "francois"),
     ("Mathéo", "matheo"), ("Noël", "noel"), "Jean-Luc"],
    ["Martin", "Bernard", "Dubois", ("Lefèvre", "lefevre"), "Moreau", "Fournier", "Girard",
     "Rousseau", "Mercier", ("Benoît", "benoit"), "Faure", "Chevalier", "d'Arcy", "Le Goff"],
)
GERMAN = (
    ["Anna", "Lea", "Hannah", "Jana", "Sophie", ("Jördis", "joerdis"), "Mia", ("Lüdia", "luedia")],
    ["Lukas", ("Jürgen", "juergen"), "Maximilian", ("Björn", "bjoern"), "Felix", "Jonas", "Uwe"],
    [("Müller", "mueller"), "Schmidt", "Schneider", "Fischer", ("Weiß", "weiss"),
     ("Schäfer", "schaefer"), ("Köhler", "koehler"), ("Groß", "gross"), "Wagner", "Becker",
     "Hoffmann", ("Strauß", "strauss"), "von Bülow"],
)
SPANISH = (
    [("Lucía", "lucia"), ("María José", "mariajose"), ("Sofía", "sofia"), "Martina", "Nuria",
     ("Begoña", "begona"), "Carmen"],
    [("José", "jose"), ("Álvaro", "alvaro"), "Javier", ("Jesús", "jesus"), ("Iñaki", "inaki"),
     ("Raúl", "raul"), "Pablo"],
    [("García", "garcia"), ("Núñez", "nunez"), ("Fernández", "fernandez"), ("López", "lopez"),
     ("Martínez", "martinez"), ("Sánchez", "sanchez"), ("Pérez", "perez"), ("Gómez", "gomez"),
     ("Muñoz", "munoz"), ("Ibáñez", "ibanez"), ("Peña", "pena"), "Castillo"],
)
NORDIC = (
    [("Åsa", "asa"), "Maja", "Ingrid", ("Linnéa", "linnea"), ("Zoë", "zoe"), "Sigrid", "Astrid"],
    [("Björn", "bjorn"), "Lars", "Anders", ("Sören", "soren"), ("Örjan", "orjan"), "Mikael"],
    [("Ångström", "angstrom"), "Johansson", "Lindqvist", ("Öberg", "oberg"),
     ("Bergström", "bergstrom"), ("Sjöberg", "sjoberg"), ("Nyström", "nystrom"),
     ("Løvland", "lovland"), ("Sørensen", "sorensen")],
)
GREEK = (
    [("Όλγα", "olga"), ("Ελένη", "eleni"), ("Μαρία", "maria"), ("Αικατερίνη", "aikaterini"),
     ("Σοφία", "sofia")],
    [("Γιώργος", "giorgos"), ("Νίκος", "nikos"), ("Δημήτρης", "dimitris"), ("Κώστας", "kostas"),
     ("Γιάννης", "giannis")],
    [("Παπαδοπούλου", "Παπαδόπουλος", "papadopoulos"), ("Οικονόμου", "Οικονόμου", "oikonomou"),
     ("Γεωργίου", "Γεωργίου", "georgiou"), ("Βλάχου", "Βλάχος", "vlachos"),
     ("Νικολάου", "Νικολάου", "nikolaou")],
)
BULGARIAN = (
    [("Мария", "maria"), ("Елена", "elena"), ("Десислава", "desislava")],
    [("Иван", "ivan"), ("Георги", "georgi"), ("Димитър", "dimitar")],
    [("Иванова", "Иванов", "ivanov"), ("Петрова", "Петров", "petrov"),
     ("Димитрова", "Димитров", "dimitrov")],
)
JAPANESE = (
    [("花子", "hanako"), ("陽菜", "hina"), ("結衣", "yui"), ("さくら", "sakura")],
    [("太郎", "taro"), ("翔太", "shota"), ("健", "ken"), ("大輝", "daiki")],
    [("山田", "yamada"), ("佐藤", "sato"), ("鈴木", "suzuki"), ("高橋", "takahashi"),
     ("田中", "tanaka"), ("渡辺", "watanabe")],
)
CHINESE = (
    [("娜", "na"), ("静", "jing"), ("芳", "fang"), ("敏", "min")],
    [("伟", "wei"), ("磊", "lei"), ("洋", "yang"), ("强", "qiang")],
    [("王", "wang"), ("李", "li"), ("张", "zhang"), ("刘", "liu"), ("陈", "chen")],
)
INDIAN = (
    ["Priya", "Ananya", "Aditi", "Lakshmi", "Kavya", "Meera"],
    ["Arjun", "Rahul", "Vikram", "Sanjay", "Rohan", "Aarav"],
    ["Sharma", "Patel", "Iyer", "Reddy", "Gupta", "Nair", "Singh", "Banerjee"],
)
BRAZILIAN = (
    ["Ana", ("Júlia", "julia"), "Beatriz", ("Letícia", "leticia"), ("Conceição", "conceicao")],
    [("João", "joao"), ("Luís", "luis"), ("Gonçalo", "goncalo"), ("Antônio", "antonio"), "Caio"],
    ["Silva", ("Gonçalves", "goncalves"), ("Araújo", "araujo"), ("Magalhães", "magalhaes"),
     ("Simões", "simoes"), "Azevedo", "dos Santos"],
)
MEXICAN = (
    ["Guadalupe", "Ximena", "Valentina", "Itzel", ("María Fernanda", "mariafernanda")],
    ["Santiago", "Mateo", ("José Luis", "joseluis"), "Emiliano", ("Andrés", "andres")],
    [("Hernández", "hernandez"), ("González", "gonzalez"), ("Rodríguez", "rodriguez"),
     ("Ramírez", "ramirez"), "Cruz", ("Ordóñez", "ordonez"), ("Peña", "pena")],
)

# MARK: - Addresses and phones


def uk_postcode(rng, area):
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return "%s %d%s%s" % (area, 1 + rng.below(9), letters[rng.below(20)], letters[rng.below(20)])


def address_uk(rng):
    street = UK_STREETS[rng.below(len(UK_STREETS))]
    city, areas = UK_CITIES[rng.below(len(UK_CITIES))]
    number = 1 + rng.below(299)
    flat = "Flat %d, " % (1 + rng.below(39)) if rng.random() < 0.15 else ""
    return "%s%d %s, %s %s" % (flat, number, street, city, uk_postcode(rng, areas[rng.below(len(areas))]))


UK_STREETS = ["Baker Street", "High Street", "Station Road", "Church Lane", "Victoria Road",
              "King's Road", "Queen's Drive", "Mill Lane", "Park Avenue", "St John's Wood Road"]
UK_CITIES = [("London", ["NW1", "SW1A", "E2", "SE1", "N7", "W11"]), ("Manchester", ["M1", "M4"]),
             ("Edinburgh", ["EH1", "EH3"]), ("Cardiff", ["CF10"]), ("Belfast", ["BT1", "BT7"]),
             ("Bristol", ["BS1", "BS8"]), ("Leeds", ["LS1", "LS6"])]


def address_template(streets, cities, pattern):
    def make(rng):
        street = streets[rng.below(len(streets))]
        city, code = cities[rng.below(len(cities))]
        return pattern % {"n": 1 + rng.below(199), "street": street, "city": city, "code": code}
    return make


address_fr = address_template(
    ["Rue de la Paix", "Avenue Victor Hugo", "Rue du Faubourg Saint-Honoré", "Boulevard Haussmann",
     "Rue de l'Église", "Place Bellecour"],
    [("Paris", "75002"), ("Paris", "75011"), ("Lyon", "69002"), ("Marseille", "13001"),
     ("Lille", "59000"), ("Nice", "06000")],
    "%(n)d %(street)s, %(code)s %(city)s")
address_de = address_template(
    ["Hauptstraße", "Schillerstraße", "Goethestraße", "Am Marktplatz", "Königsallee"],
    [("Berlin", "10115"), ("München", "80331"), ("Köln", "50667"), ("Hamburg", "20095")],
    "%(street)s %(n)d, %(code)s %(city)s")
address_es = address_template(
    ["Calle Mayor", "Gran Vía", "Calle de Alcalá", "Avinguda Diagonal", "Calle Sierpes"],
    [("Madrid", "28013"), ("Barcelona", "08008"), ("Sevilla", "41004"), ("València", "46002")],
    "%(street)s %(n)d, %(code)s %(city)s")
address_se = address_template(
    ["Drottninggatan", "Kungsgatan", "Storgatan", "Östra Hamngatan"],
    [("Stockholm", "111 51"), ("Göteborg", "411 03"), ("Malmö", "211 22")],
    "%(street)s %(n)d, %(code)s %(city)s")
address_gr = address_template(
    ["Ερμού", "Πανεπιστημίου", "Σταδίου", "Τσιμισκή"],
    [("Αθήνα", "105 63"), ("Αθήνα", "106 79"), ("Θεσσαλονίκη", "546 24")],
    "%(street)s %(n)d, %(code)s %(city)s")
address_bg = address_template(
    ["ул. Витоша", "бул. Васил Левски", "ул. Граф Игнатиев"],
    [("София", "1000"), ("Пловдив", "4000")],
    "%(street)s %(n)d, %(code)s %(city)s")
address_us = address_template(
    ["Market St", "Main Street", "Broadway", "Elm Street Apt 4B", "Pennsylvania Ave NW", "Ocean Drive"],
    [("San Francisco, CA", "94103"), ("New York, NY", "10001"), ("Chicago, IL", "60601"),
     ("Austin, TX", "78701"), ("Miami, FL", "33139"), ("Seattle, WA", "98101")],
    "%(n)d %(street)s, %(city)s %(code)s")
address_jp = address_template(
    ["Jingumae", "Shibuya", "Ginza", "Umeda"],
    [("Shibuya-ku, Tokyo", "150-0001"), ("Chuo-ku, Tokyo", "104-0061"), ("Kita-ku, Osaka", "530-0001")],
    "1-%(n)d-3 %(street)s, %(city)s %(code)s")
address_jp_native = address_template(
    ["渋谷", "銀座", "梅田"],
    [("東京都渋谷区", "〒150-0002"), ("東京都中央区", "〒104-0061"), ("大阪府大阪市北区", "〒530-0001")],
    "%(code)s %(city)s%(street)s1-%(n)d-3")
address_cn = address_template(
    ["Nanjing Road", "Huaihai Road", "Jianguo Road"],
    [("Huangpu District, Shanghai", "200001"), ("Chaoyang District, Beijing", "100020")],
    "%(n)d %(street)s, %(city)s %(code)s")
address_in = address_template(
    ["MG Road", "Linking Road", "Park Street", "Anna Salai"],
    [("Bengaluru", "560001"), ("Mumbai", "400050"), ("Kolkata", "700016"), ("Chennai", "600002")],
    "%(n)d %(street)s, %(city)s %(code)s")
address_br = address_template(
    ["Rua Augusta", "Avenida Paulista", "Rua das Flores", "Avenida Atlântica"],
    [("São Paulo", "01304-001"), ("Rio de Janeiro", "22021-001"), ("Curitiba", "80010-000")],
    "%(street)s %(n)d, %(code)s %(city)s")
address_mx = address_template(
    ["Avenida Paseo de la Reforma", "Calle Madero", "Avenida Insurgentes Sur"],
    [("Ciudad de México", "06600"), ("Guadalajara", "44100"), ("Monterrey", "64000")],
    "%(street)s %(n)d, %(code)s %(city)s")


def groups(digits, sizes):
    out, i = [], 0
    for size in sizes:
        out.append(digits[i:i + size])
        i += size
    if i < len(digits):
        out.append(digits[i:])
    return out


# Phone numbers encode the customer counter through a bijection (n * A + B) mod 10^k, so they
# look varied yet are unique. A is coprime with 10 (odd, not a multiple of 5).
SCRAMBLE_A = 2_718_281
SCRAMBLE_B = 3_141_592


def scramble(n, modulus):
    return (n * SCRAMBLE_A + SCRAMBLE_B) % modulus


def phone_uk(counter, style):
    """UK numbers, national or international; unique for up to 45 million customers."""
    if counter % 3 == 2:  # mobile: 74 + 8 digits
        nsn = "74%08d" % scramble(counter // 3, 10 ** 8)
        formats = ["+44" + nsn, "0%s %s" % (nsn[:4], nsn[4:]), "+44 %s %s" % (nsn[:4], nsn[4:]),
                   "0%s-%s" % (nsn[:4], nsn[4:])]
    else:  # London: 20 + 8 digits, the first of them 3, 7 or 8
        n = counter // 3 * 2 + counter % 3
        lead = "378"[(n // 10 ** 7) % 3]
        nsn = "20%s%07d" % (lead, scramble(n % 10 ** 7, 10 ** 7))
        a, b, c = nsn[:2], nsn[2:6], nsn[6:]
        formats = ["+44" + nsn, "0%s %s %s" % (a, b, c), "(0)%s-%s-%s" % (a, b, c),
                   "+44 %s %s %s" % (a, b, c), "0%s-%s-%s" % (a, b, c)]
    return formats[style % len(formats)]


def phone_international(code, area, size, sizes):
    def make(counter, style):
        digits = "%0*d" % (size, scramble(counter, 10 ** size))
        compact = "+%s%s%s" % (code, area, digits)
        spaced = "+%s %s %s" % (code, area, " ".join(groups(digits, sizes)))
        dashed = "+%s-%s-%s" % (code, area, "-".join(groups(digits, sizes)))
        return (compact, spaced, dashed)[style % 3]
    return make


US_AREAS = ["212", "312", "415", "617", "646", "702", "808", "206"]


def phone_us(counter, style):
    area = US_AREAS[counter % len(US_AREAS)]
    rest = scramble(counter // len(US_AREAS), 8_000_000)
    exchange = 200 + rest // 10_000
    line = rest % 10_000
    formats = ["+1%s%d%04d" % (area, exchange, line), "+1 %s %d %04d" % (area, exchange, line),
               "+1 (%s) %d-%04d" % (area, exchange, line)]
    return formats[style % len(formats)]


# A profile: (weight, region, names, script, address maker, phone maker, usual currency or None, country).
# script: "latin"; "cjk" (half the names in native script, family name first, half romanised);
# "other" (always a non-Latin script).
PROFILES = [
    (36, "UK", ENGLISH, "latin", address_uk, phone_uk, "GBP", "GB"),
    (5, "EU", FRENCH, "latin", address_fr, phone_international("33", "1", 8, (2, 2, 2, 2)), "EUR", "FR"),
    (5, "EU", GERMAN, "latin", address_de, phone_international("49", "30", 8, (4, 4)), "EUR", "DE"),
    (5, "EU", SPANISH, "latin", address_es, phone_international("34", "91", 7, (3, 2, 2)), "EUR", "ES"),
    (2, "EU", NORDIC, "latin", address_se, phone_international("46", "8", 8, (3, 3, 2)), "EUR", "SE"),
    (2, "EU", GREEK, "other", address_gr, phone_international("30", "21", 8, (4, 4)), "EUR", "GR"),
    (1, "EU", BULGARIAN, "other", address_bg, phone_international("359", "2", 7, (3, 4)), "EUR", "BG"),
    (24, "US", AMERICAN, "latin", address_us, phone_us, "USD", "US"),
    (3, "APAC", JAPANESE, "cjk", (address_jp, address_jp_native), phone_international("81", "3", 8, (4, 4)), None, "JP"),
    (2, "APAC", CHINESE, "cjk", (address_cn, address_cn), phone_international("86", "21", 8, (4, 4)), None, "CN"),
    (7, "APAC", INDIAN, "latin", address_in, phone_international("91", "80", 8, (4, 4)), None, "IN"),
    (4, "LATAM", BRAZILIAN, "latin", address_br, phone_international("55", "11", 9, (5, 4)), None, "BR"),
    (4, "LATAM", MEXICAN, "latin", address_mx, phone_international("52", "55", 8, (4, 4)), None, "MX"),
]
PROFILES = [(profile[0], profile[1], prepare(profile[2])) + profile[3:] for profile in PROFILES]
PROFILE_CUMULATIVE = []
_total = 0
for _profile in PROFILES:
    _total += _profile[0]
    PROFILE_CUMULATIVE.append(_total)
PROFILE_TOTAL = _total

GENDERS = ["female", "male", "nonbinary", "unspecified"]
DOMAINS = ["example.com", "example.org", "example.net", "mail.example.com", "post.example.org"]
PAYMENT_METHODS = ["card", "paypal", "bank_transfer", "cash", "gift_card"]
CURRENCIES = ["EUR", "USD", "GBP"]
CHANNELS = ["email", "phone", "chat", "store", "social"]

SUMMARIES = [
    "Asked about the status of order %(order)s.",
    "Called to update the delivery address, then asked about invoices.",
    'Said the product was "not as described", requested a refund.',
    "Complained about late delivery, the second time this month.",
    "Chat transcript:\nCustomer: where is my parcel?\nAgent: it ships tomorrow, sorry for the wait.",
    'Left a review: "Great service, fast shipping!"',
    "Requested a copy of their personal data (GDPR subject access request).",
    "Asked to be removed from the newsletter.",
    'Reported that the app shows "login failed" on Android, escalated to support.',
    "Visited the store to return a jacket; exchanged for a larger size.",
    "Wants to change payment method from card to bank transfer, no urgency.",
    "Follow-up on complaint about a damaged item,\nphotos received by email.",
    'Asked whether "same-day delivery" is available in their area.',
    "Thanked the team for quick help with a billing question.",
]

def make_name(rng, names, script, gender):
    """(display name, ascii given, ascii family, kind) with kind "ascii", "accented" or "non-latin"."""
    females, males, families = names
    female = gender == "female" or (gender in ("nonbinary", "unspecified") and rng.random() < 0.5)
    given, _, given_ascii = pick(rng, females if female else males)
    female_family, male_family, family_ascii = pick(rng, families)
    family = female_family if female else male_family
    if script == "cjk":
        if rng.random() < 0.5:  # native script, family name first, no space
            return family + given, given_ascii, family_ascii, "non-latin"
        return "%s %s" % (given_ascii.capitalize(), family_ascii.capitalize()), given_ascii, family_ascii, "ascii"
    display = "%s %s" % (given, family)
    if script == "other":
        return display, given_ascii, family_ascii, "non-latin"
    if display.isascii():
        return display, given_ascii, family_ascii, "ascii"
    if rng.random() < 0.7:  # most systems lost the accents long ago
        return fold(display), given_ascii, family_ascii, "ascii"
    return display, given_ascii, family_ascii, "accented"


def make_email(rng, given_ascii, family_ascii, counter):
    local = "%s.%s%d" % (given_ascii, family_ascii, counter)
    local = local.replace("--", "-").strip(".-")
    domain = pick(rng, DOMAINS)
    r = rng.random()
    if r < 0.70:
        return (local + "@" + domain).lower()
    if r < 0.92:  # Jose.Nunez42@Example.com
        return ".".join(part[:1].upper() + part[1:] for part in local.split(".")) + "@" + domain.capitalize()
    return (local + "@" + domain).upper()


def normalised_name(name):
    """The vault's name normalisation (NFKC, case folding, whitespace collapsed)."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def name_variant(name):
    """The same name in another case (Latin letters) and with other spacing."""
    changed = name.upper() if name.isascii() and name != name.upper() else name
    return "  ".join(changed.split()) + " "


def other_case(email):
    """The same address in another letter case."""
    return email.lower() if email != email.lower() else email.upper()


ORDER_DAYS = [time.strftime("%Y-%m-%dT", time.gmtime(1672531200 + 86400 * day)) for day in range(1096)]


def iso(seconds):
    """ISO 8601 UTC for a time in ORDER_DAYS, seconds from 2023-01-01T00:00:00Z."""
    day, rest = divmod(seconds, 86400)
    return "%s%02d:%02d:%02dZ" % (ORDER_DAYS[day], rest // 3600, rest // 60 % 60, rest % 60)


def csv_field(text):
    """A field as the csv module writes it (quoted only when needed)."""
    if any(ch in text for ch in ',"\r\n'):
        return '"' + text.replace('"', '""') + '"'
    return text


ORDER_SPAN = 1096 * 86400  # 2023-01-01 until 2026-01-01
BIRTH_FIRST = datetime.date(1925, 1, 1).toordinal()
BIRTH_DAYS = datetime.date(2008, 1, 1).toordinal() - BIRTH_FIRST
AGE_REFERENCE = datetime.date(2026, 1, 1)


class FastRandom(random.Random):
    """random.Random with a quick, seeded `below(n)` (an integer in 0 ..< n)."""

    def below(self, n):
        return int(self.random() * n)


class Selector:
    """Selection sampling (Knuth's algorithm S): exactly `wanted` of `total` items, streaming."""

    def __init__(self, rng, wanted, total):
        self.rng, self.wanted, self.left = rng, wanted, total

    def take(self):
        take = self.left > 0 and self.rng.random() * self.left < self.wanted
        self.left -= 1
        if take:
            self.wanted -= 1
        return take


INVALID_REASONS = ["malformed_email", "age_out_of_range", "name_too_long", "phone_with_letters", "empty_name"]


def break_row(rng, row, reason):
    """Give a customer row exactly one defect."""
    name, age, gender, address, phone, email, birth_date, region, country = row
    if reason == "malformed_email":
        local, _, domain = email.partition("@")
        email = pick(rng, [local + domain, local + "@@" + domain, local + "@",
                           local.replace(".", " ", 1) + "@" + domain if "." in local else "@" + domain])
    elif reason == "age_out_of_range":
        age, birth_date = "999", ""
    elif reason == "name_too_long":
        while len(name) <= 200:
            name = name + " " + name
    elif reason == "phone_with_letters":
        phone = phone[:-4] + pick(rng, ["ABCD", "CALL", "x12O", "TEL1"])
    elif reason == "empty_name":
        name = ""
    return [name, age, gender, address, phone, email, birth_date, region, country]


# MARK: - Main


def main(argv):
    parser = argparse.ArgumentParser(description="Generate reproducible synthetic vault sample data.")
    parser.add_argument("--customers", type=int, required=True, help="number of customers")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--invalid-rate", type=float, default=0.0, help="fraction of customer rows to break")
    parser.add_argument("--duplicate-rate", type=float, default=0.0, help="extra duplicate rows, as a fraction of customers")
    parser.add_argument("--person-duplicate-rate", type=float, default=0.0,
                        help="extra rows of the same person under another e-mail, as a fraction of customers")
    parser.add_argument("--out", required=True, help="output directory")
    args = parser.parse_args(argv)
    if args.customers < 0:
        parser.error("--customers must be >= 0")
    for name in ("invalid_rate", "duplicate_rate", "person_duplicate_rate"):
        if not 0.0 <= getattr(args, name) <= 1.0:
            parser.error("--%s must be between 0 and 1" % name.replace("_", "-"))

    started = time.time()
    rng = FastRandom(args.seed)
    os.makedirs(args.out, exist_ok=True)
    n = args.customers
    invalid_wanted = round(args.invalid_rate * n)
    duplicate_wanted = round(args.duplicate_rate * n)
    invalid_selector = Selector(rng, invalid_wanted, n)
    # Duplicates follow a valid customer; candidate slots are the valid rows.
    duplicate_selector = Selector(rng, min(duplicate_wanted, n - invalid_wanted), n - invalid_wanted)
    person_wanted = round(args.person_duplicate_rate * n)
    person_rng = FastRandom(args.seed * 7919 + 1) if person_wanted else None
    person_selector = Selector(person_rng, min(person_wanted, n - invalid_wanted), n - invalid_wanted) if person_wanted else None
    person_file = open(os.path.join(args.out, "expected_person_duplicates.txt"), "w", encoding="utf-8") if person_wanted else None
    seen_name_birth, seen_name_address = set(), set()
    recent_people = []
    recent = []  # a bounded sample of recent valid customers: (record, row, counter, phone maker, style)
    recent_limit = 512

    def open_csv(name):
        handle = open(os.path.join(args.out, name), "w", encoding="utf-8", newline="", buffering=1 << 20)
        return handle, csv.writer(handle, lineterminator="\n")

    customers_file, customers = open_csv("customers.csv")
    transactions_file, transactions = open_csv("transactions.csv")
    interactions_file, interactions = open_csv("interactions.csv")
    invalid_file = open(os.path.join(args.out, "expected_invalid_rows.txt"), "w", encoding="utf-8", buffering=1 << 16)
    duplicate_file = open(os.path.join(args.out, "expected_duplicate_rows.txt"), "w", encoding="utf-8", buffering=1 << 16)

    customers.writerow(["name", "age", "gender", "address", "phone", "email", "birth_date", "region", "country", "marketing_consent"])
    transactions.writerow(["customer_email", "order_id", "order_time", "payment_method", "amount", "currency"])
    interactions.writerow(["customer_email", "occurred_at", "channel", "summary"])

    record = 1
    order_number = 0
    counts = {"invalid": 0, "duplicates": 0, "transactions": 0, "interactions": 0,
              "ascii": 0, "accented": 0, "non-latin": 0}
    reason_index = 0

    rnd, gauss, exp = rng.random, rng.gauss, math.exp
    summaries = [csv_field(summary) for summary in SUMMARIES]
    for counter in range(n):
        # The profile
        x = rng.below(PROFILE_TOTAL)
        index = 0
        while PROFILE_CUMULATIVE[index] <= x:
            index += 1
        _, region, names, script, address_maker, phone_maker, currency, country = PROFILES[index]

        r = rng.random()
        gender = "female" if r < 0.47 else "male" if r < 0.94 else "nonbinary" if r < 0.97 else "unspecified"
        name, given_ascii, family_ascii, kind = make_name(rng, names, script, gender)
        if script == "cjk":
            address = address_maker[kind == "non-latin"](rng)
        else:
            address = address_maker(rng)
        phone_style = rng.below(6)
        phone = phone_maker(counter, phone_style)
        email = make_email(rng, given_ascii, family_ascii, counter + 1)
        birth = datetime.date.fromordinal(BIRTH_FIRST + rng.below(BIRTH_DAYS))
        if rng.random() < 0.5:
            age = str(min(99, (AGE_REFERENCE - birth).days * 400 // 146097))
            birth_date = ""
        else:
            age = ""
            birth_date = birth.isoformat()
        row = [name, age, gender, address, phone, email, birth_date, region, country]
        # About 40% consent to marketing; derived from the counter so the random stream is unchanged.
        consent = "true" if (counter * 2654435761) % 100 < 40 else "false"

        record += 1
        if invalid_selector.take():
            reason = INVALID_REASONS[reason_index % len(INVALID_REASONS)]
            reason_index += 1
            customers.writerow(break_row(rng, row, reason) + [consent])
            invalid_file.write("%d\t%s\n" % (record, reason))
            counts["invalid"] += 1
            continue

        if person_selector is not None:
            # No chance links between originals: every group in the data is a planted one.
            key = normalised_name(row[0])
            if row[6] and (key, row[6]) in seen_name_birth:
                row[6] = ""
                row[1] = str(min(99, (AGE_REFERENCE - birth).days * 400 // 146097))
            if (key, row[3]) in seen_name_address:
                row[3] = "%s, Flat %d" % (row[3], counter + 1)
            if row[6]:
                seen_name_birth.add((key, row[6]))
            seen_name_address.add((key, row[3]))
        customers.writerow(row + [consent])
        counts[kind] += 1
        original_record = record

        # Transactions: 0–5. Written directly: no field needs quoting (emails of valid rows have
        # no comma, quote or space).
        lines = []
        for _ in range(int(rnd() * 6)):
            order_number += 1
            cents = int(exp(gauss(8.0, 1.1))) + 99
            lines.append("%s,ORD-%09d,%s,%s,%d.%02d,%s\n" % (
                email, order_number, iso(int(rnd() * ORDER_SPAN)), PAYMENT_METHODS[int(rnd() * 5)],
                cents // 100, cents % 100,
                currency if currency and rnd() < 0.85 else CURRENCIES[int(rnd() * 3)]))
        if lines:
            transactions_file.write("".join(lines))
            counts["transactions"] += len(lines)

        # Interactions: 0–3, summaries quoted in advance.
        lines = []
        for _ in range(int(rnd() * 4)):
            summary = summaries[int(rnd() * len(summaries))]
            if "%(order)s" in summary:
                summary = summary % {"order": "ORD-%09d" % max(1, order_number - int(rnd() * 3))}
            lines.append("%s,%s,%s,%s\n" % (email, iso(int(rnd() * ORDER_SPAN)), CHANNELS[int(rnd() * 5)], summary))
        if lines:
            interactions_file.write("".join(lines))
            counts["interactions"] += len(lines)

        if person_selector is not None:
            entry = (original_record, list(row), counter, phone_maker, phone_style, consent)
            if len(recent_people) < 256:
                recent_people.append(entry)
            else:
                recent_people[person_rng.below(256)] = entry
            if person_selector.take():
                o_record, o_row, o_counter, o_phone, o_style, o_consent = recent_people[person_rng.below(len(recent_people))]
                copy = list(o_row)
                copy[5] = "dup%d.%s" % (counter + 1, o_row[5])
                link = ["phone", "name+birth_date", "name+address"][person_rng.below(3)]
                if link == "name+birth_date" and not o_row[6]:
                    link = "name+address"
                if link == "phone":
                    copy[4] = o_phone(o_counter, o_style + 1 + person_rng.below(2))
                else:
                    copy[0] = name_variant(o_row[0])
                    copy[4] = ""
                    if link == "name+birth_date":
                        copy[3] = ""
                    else:
                        copy[6] = ""
                record += 1
                customers.writerow(copy + [o_consent])
                person_file.write("%d\t%d\t%s\n" % (record, o_record, link))
                counts["person_duplicates"] = counts.get("person_duplicates", 0) + 1

        # Remember it as a duplicate candidate, maybe emit a duplicate of a recent customer.
        entry = (record, row, counter, phone_maker, phone_style)
        if len(recent) < recent_limit:
            recent.append(entry)
        else:
            recent[rng.below(recent_limit)] = entry
        if duplicate_selector.take():
            original_record, original, original_counter, original_phone, style = pick(rng, recent)
            copy = list(original)
            copy[5] = other_case(original[5])
            copy[4] = original_phone(original_counter, style + 1 + rng.below(2))
            record += 1
            customers.writerow(copy)
            duplicate_file.write("%d\t%d\n" % (record, original_record))
            counts["duplicates"] += 1

    for handle in (customers_file, transactions_file, interactions_file, invalid_file, duplicate_file, person_file):
        if handle is not None:
            handle.close()

    print("%s: %d customers (%d invalid, %d duplicate rows; names: %d accented, %d non-Latin script), "
          "%d transactions, %d interactions, seed %d, %.1f s"
          % (args.out, n, counts["invalid"], counts["duplicates"], counts["accented"], counts["non-latin"],
             counts["transactions"], counts["interactions"], args.seed, time.time() - started))


if __name__ == "__main__":
    main(sys.argv[1:])
