//! The built-in redactors, one by one: what each must find (real-world shapes) and what it
//! must leave alone (ordinary numbers, dates, times, versions, ids, hashes, timestamps —
//! strings LLM traffic is full of).

use llmetry::redact::Redactor;

fn redacted(r: Redactor, text: &str) -> String {
    r.redact(text)
}

/// Each positive is found whole, inside a sentence.
fn finds(r: Redactor, positives: &[&str]) {
    let tag = format!("[REDACTED:{}]", r.name());
    for p in positives {
        let text = format!("see {p}, then reply");
        assert_eq!(
            redacted(r, &text),
            format!("see {tag}, then reply"),
            "{r} must find {p:?}"
        );
    }
}

/// Each negative is left exactly as it was.
fn leaves(r: Redactor, negatives: &[&str]) {
    for n in negatives {
        let text = format!("see {n}, then reply");
        assert_eq!(redacted(r, &text), text, "{r} must leave {n:?}");
    }
}

/// Strings every redactor must leave alone.
const ORDINARY: &[&str] = &[
    "2024-07-18",
    "18.07.2024",
    "10:15:00Z",
    "1.2.3",
    "v2.0.1",
    "version@1.2.3",
    "123e4567-e89b-12d3-a456-426614174000",
    "4bf92f3577b34da6a3ce929d0e0e4736",
    "00f067aa0ba902b7",
    "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    "1732976400",
    "1732976400000",
    "1234567890123456789",
    "order 42 of 1000",
    "192.168.100.200",
    "978-3-16-148410-0",
    "UTC+05:30",
    "+100 points",
    "gpt-4o-mini-2024-07-18",
    "claude-3-5-sonnet-20241022",
    "call_abc123XYZ",
];

#[test]
fn ordinary_strings_pass_every_redactor() {
    for r in [
        Redactor::Email,
        Redactor::Phone,
        Redactor::Card,
        Redactor::Iban,
        Redactor::Secret,
    ] {
        leaves(r, ORDINARY);
    }
}

#[test]
fn email() {
    finds(
        Redactor::Email,
        &[
            "jane@example.com",
            "Jane.Doe+llm@mail.example.co.uk",
            "ops-team_1@db.internal.io",
        ],
    );
    leaves(
        Redactor::Email,
        &[
            "icon@2x.png",
            "user@localhost",
            "@scope/pkg",
            "styles@media.css",
            "a @ b.com",
        ],
    );
}

#[test]
fn phone() {
    finds(
        Redactor::Phone,
        &[
            "+44 20 7946 0958",
            "+1 (415) 555-2671",
            "+33 1 42 68 53 00",
            "(415) 555-2671",
            "415-555-2671",
            "415.555.2671",
        ],
    );
    leaves(
        Redactor::Phone,
        &["+33 1", "555-1234", "+1.2.3", "1-800", "$415.55"],
    );
}

#[test]
fn card() {
    finds(
        Redactor::Card,
        &[
            "4111 1111 1111 1111",
            "4111111111111111",
            "5555555555554444",
            "3782-822463-10005",
            "6011 1111 1111 1117",
            "2223003122003222",
        ],
    );
    leaves(
        Redactor::Card,
        // Luhn fails; issuer prefix unknown; epoch milliseconds; an ISBN.
        &[
            "4111111111111112",
            "1234 5678 9012 3456",
            "1732976400000",
            "9783161484100",
            "555-123-4567-890",
        ],
    );
}

#[test]
fn iban() {
    finds(
        Redactor::Iban,
        &[
            "DE89 3704 0044 0532 0130 00",
            "GB82WEST12345698765432",
            "NL91ABNA0417164300",
            "FR1420041010050500013M02606",
        ],
    );
    // The IBAN ends where its country's length says, even when text follows.
    assert_eq!(
        redacted(
            Redactor::Iban,
            "pay DE89 3704 0044 0532 0130 00 2 days late"
        ),
        "pay [REDACTED:iban] 2 days late"
    );
    leaves(
        Redactor::Iban,
        // mod-97 fails; wrong length for GB; not a country; lower case.
        &[
            "GB82WEST12345698765433",
            "GB82WEST1234569876543",
            "ABCD1234EFGH5678",
            "gb82west12345698765432",
        ],
    );
}

#[test]
fn secrets() {
    finds(
        Redactor::Secret,
        &[
            "sk-proj-Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4z",
            "sk-ant-api03-Xy7zAb3dEf6hIj9kLm2nOp5qRs8tUv1w",
            "sk-Ab3dEf6hIj9kLm2nOp5qRs8t",
            "AKIAIOSFODNN7EXAMPLE",
            "ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789",
            "AIzaSyA1234567890abcdefghijklmnopqrstuv",
            "xoxb-1234567890-abcdefghij",
            "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
            "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
            "-----BEGIN RSA PRIVATE KEY-----",
        ],
    );
    // Bearer: the token goes, the word stays.
    assert_eq!(
        redacted(
            Redactor::Secret,
            "Authorization: Bearer abc.DEF-123_xyz~/+=="
        ),
        "Authorization: Bearer [REDACTED:secret]"
    );
    leaves(
        Redactor::Secret,
        &[
            "sk-learn-compatible-estimator-interface",
            "the bearer of bad news",
            "bearer instruments",
            "AKIA1234",
            // `eyJ` parts that are not a JSON header (base64 of other data).
            "eyJxxxxxxxxxxxx.eyJyyyyyyyyyyyyy.zzz",
            "ghp_short",
        ],
    );
}

#[test]
fn several_redactors_and_overlaps() {
    let all = [
        Redactor::Email,
        Redactor::Phone,
        Redactor::Card,
        Redactor::Iban,
        Redactor::Secret,
    ];
    let mut text = String::from(
        "Jane (jane@example.com, +44 20 7946 0958) paid with 4111 1111 1111 1111 from GB82WEST12345698765432 using key AKIAIOSFODNN7EXAMPLE on 2024-07-18.",
    );
    for r in all {
        text = r.redact(&text);
    }
    assert_eq!(
        text,
        "Jane ([REDACTED:email], [REDACTED:phone]) paid with [REDACTED:card] from [REDACTED:iban] using key [REDACTED:secret] on 2024-07-18."
    );
    // Non-ASCII text around a match stays intact.
    assert_eq!(
        Redactor::Email.redact("écrire à jane@example.com — merci"),
        "écrire à [REDACTED:email] — merci"
    );
}

#[test]
fn names() {
    for (name, r) in [
        ("email", Redactor::Email),
        ("phone", Redactor::Phone),
        ("card", Redactor::Card),
        ("iban", Redactor::Iban),
        ("secret", Redactor::Secret),
    ] {
        assert_eq!(name.parse::<Redactor>(), Ok(r));
        assert_eq!(r.name(), name);
    }
    assert_eq!("ssn".parse::<Redactor>(), Err("ssn".to_owned()));
}
