"""Build a benign corpus of everyday API traffic: the records a multi-service app exchanges.

    pip install faker                                   # a bench-only dependency
    python bench/api_corpus.py [--out /tmp/api.jsonl.gz] [--count 30000] [--seed 1]
    extauthz eval /tmp/api.jsonl.gz --split dev -j 2     # tune on dev, report holdout

Why: the shared corpora's benign side is one web shop (CSIC), one public site's
log, and short search words. What a mesh's services really send each other is
JSON records of people and things in many languages: names with apostrophes
(O'Brien, D'Angelo), companies with `&` and `(GmbH)`, street addresses with
`#` and `/`, file names and paths of uploads, URLs of images and webhooks,
user agents, generated passwords, IBANs, phone numbers, free text, product
codes, timestamps, UUIDs, nested objects and arrays. A WAF that blocks any of
those in blocking mode breaks the application.

The values come from Faker (ten locales: English, German, French, Spanish,
Italian, Portuguese, Dutch, Russian, Japanese and British English), so they
are realistic and reproducible from the seed; they are arranged in ten
request shapes (sign-up, profile update, order, address book, message,
upload metadata, webhook subscription, search, settings, audit event), sent
as JSON POST/PUT/PATCH, form POST or GET query like real clients send them.

Every request is benign. Deliberate choices: a webhook or avatar URL is always
public (a private address in a URL field is what SSRF detection is for);
private IP addresses appear only as plain values (a client IP in an audit
record). Ids are `api:<seed>:<n>`, so `--split dev|holdout` keeps the same
20 % unseen for one seed.
"""
from __future__ import annotations

import argparse
import gzip
import json
import random
import sys
import urllib.parse
from typing import Callable

LOCALES = ["en_US", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "ru_RU", "ja_JP", "en_GB"]
HOST = ["Host", "api.example.com"]
UA = ["User-Agent", "okhttp/4.12.0"]


def _json(method: str, path: str, record: dict) -> dict:
    return {"method": method, "uri": path, "body": json.dumps(record, ensure_ascii=False),
            "headers": [HOST, UA, ["Content-Type", "application/json"]]}


def _form(path: str, record: dict) -> dict:
    flat = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in record.items()}
    return {"method": "POST", "uri": path, "body": urllib.parse.urlencode(flat),
            "headers": [HOST, ["User-Agent", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"],
                        ["Content-Type", "application/x-www-form-urlencoded"]]}


def _query(path: str, record: dict) -> dict:
    flat = {k: v if isinstance(v, str) else json.dumps(v, ensure_ascii=False) for k, v in record.items()}
    return {"method": "GET", "uri": path + "?" + urllib.parse.urlencode(flat), "body": "", "headers": [HOST, UA]}


def shapes(fake, rnd: random.Random) -> list[Callable[[], dict]]:
    """One builder per request shape; each returns a request dict (without id/labels)."""

    def person() -> dict:
        return {"first_name": fake.first_name(), "last_name": fake.last_name(), "email": fake.email(),
                "phone": fake.phone_number(), "birthdate": fake.date_of_birth().isoformat()}

    def address() -> dict:
        return {"street": fake.street_address(), "city": fake.city(), "postcode": fake.postcode(),
                "country": fake.country_code(), "label": rnd.choice(["home", "work", "Home (main)", "office #2"])}

    def signup() -> dict:
        r = dict(person(), username=fake.user_name(), password=fake.password(length=rnd.randint(10, 20)),
                 company=fake.company(), accept_terms=True)
        return _form("/signup", r) if rnd.random() < 0.5 else _json("POST", "/api/v1/users", r)

    def profile() -> dict:
        r = {"display_name": fake.name(), "bio": fake.paragraph(nb_sentences=rnd.randint(1, 4)),
             "job_title": fake.job(), "website": fake.url(), "avatar_url": fake.image_url(),
             "address": address(), "timezone": fake.timezone(), "locale": rnd.choice(LOCALES)}
        return _json("PATCH", f"/api/v1/users/{fake.uuid4()}", r)

    def order() -> dict:
        items = [{"sku": fake.bothify("??-####-??").upper(), "name": fake.catch_phrase(),
                  "qty": rnd.randint(1, 5), "price": round(rnd.uniform(1, 500), 2),
                  "note": fake.sentence() if rnd.random() < 0.3 else ""} for _ in range(rnd.randint(1, 6))]
        r = {"customer": person(), "shipping": address(), "items": items, "currency": fake.currency_code(),
             "coupon": fake.bothify("????-##").upper() if rnd.random() < 0.2 else None,
             "payment": {"iban": fake.iban(), "holder": fake.name()} if rnd.random() < 0.5 else
             {"card_last4": fake.credit_card_number()[-4:], "expires": fake.credit_card_expire()},
             "gift_message": fake.text(max_nb_chars=160) if rnd.random() < 0.3 else ""}
        return _json("POST", "/api/v1/orders", r)

    def address_book() -> dict:
        r = {"contacts": [dict(person(), company=fake.company(), address=address()) for _ in range(rnd.randint(1, 4))]}
        return _json("PUT", f"/api/v1/address-book/{rnd.randint(1, 99999)}", r)

    def message() -> dict:
        r = {"to": fake.email(), "subject": fake.sentence(nb_words=rnd.randint(3, 9)),
             "body": "\n\n".join(fake.paragraphs(nb=rnd.randint(1, 3))), "signature": f"{fake.name()}\n{fake.company()}"}
        return _form("/messages/send", r) if rnd.random() < 0.5 else _json("POST", "/api/v1/messages", r)

    def upload_meta() -> dict:
        r = {"file_name": fake.file_name(), "path": fake.file_path(depth=rnd.randint(1, 4)),
             "mime_type": fake.mime_type(), "size": rnd.randint(100, 10_000_000), "sha256": fake.sha256(),
             "title": fake.sentence(nb_words=4), "tags": fake.words(nb=rnd.randint(0, 5))}
        return _json("POST", "/api/v1/files", r)

    def webhook() -> dict:
        r = {"url": f"https://{fake.domain_name()}/{fake.uri_path()}", "events": fake.words(nb=3),
             "secret": fake.password(length=32, special_chars=False), "description": fake.bs()}
        return _json("POST", "/api/v1/webhooks", r)

    def search() -> dict:
        r = {"q": rnd.choice([fake.word(), fake.catch_phrase(), fake.city(), fake.last_name(), fake.company()]),
             "page": str(rnd.randint(1, 40)), "sort": rnd.choice(["price_asc", "-created_at", "name", "relevance"]),
             "lang": rnd.choice(["en", "de", "fr", "ja"])}
        return _query("/api/v1/search", r)

    def settings() -> dict:
        r = {"theme": rnd.choice(["dark", "light", "system"]), "notifications": {"email": True, "sms": False},
             "signature_html": f"<p>{fake.name()}<br><i>{fake.job()}</i></p>" if rnd.random() < 0.3 else "",
             "date_format": rnd.choice(["YYYY-MM-DD", "DD/MM/YYYY", "%d.%m.%Y"]), "homepage": fake.url()}
        return _json("PUT", "/api/v1/settings", r)

    def audit() -> dict:
        r = {"actor": fake.user_name(), "ip": rnd.choice([fake.ipv4_private(), fake.ipv4_public(), fake.ipv6()]),
             "user_agent": fake.user_agent(), "action": rnd.choice(["login", "logout", "update", "delete", "export"]),
             "at": fake.iso8601(), "request_id": fake.uuid4(), "resource": f"/{fake.uri_path()}"}
        return _json("POST", "/internal/audit", r)

    return [signup, profile, order, address_book, message, upload_meta, webhook, search, settings, audit]


def build(count: int, seed: int) -> list[dict]:
    try:
        from faker import Faker
    except ImportError:
        raise SystemExit("this bench needs Faker: pip install faker") from None
    fakers = {locale: Faker(locale) for locale in LOCALES}
    out = []
    for i in range(count):
        locale = LOCALES[i % len(LOCALES)]
        fake = fakers[locale]
        fake.seed_instance(seed * 1_000_003 + i)
        rnd = random.Random(seed * 1_000_003 + i)
        builders = shapes(fake, rnd)
        r = builders[(i // len(LOCALES)) % len(builders)]()
        out.append(dict(r, id=f"api:{seed}:{i}", source=f"faker-{locale}", label="benign", category="benign"))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="/tmp/api.jsonl.gz")
    ap.add_argument("--count", type=int, default=30000)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    records = build(args.count, args.seed)
    with gzip.open(args.out, "wt", encoding="utf-8") as f:
        for r in records:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print(f"{len(records)} requests -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
