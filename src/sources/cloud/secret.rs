//! Secrets (tokens, client secrets) that cannot be printed by accident, and a scrubber for
//! text that may quote one (a server echoing a header, a CLI's error output).

/// A secret string: `Debug` and `Display` show `***`; [`Secret::expose`] is explicit.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// Where a credential may follow in text a server or tool wrote.
const MARKERS: &[&str] = &[
    "bearer ",
    "access_token=",
    "client_secret=",
    "refresh_token=",
    "sig=",
    "\"access_token\":",
    "\"accesstoken\":",
    "\"refresh_token\":",
    "\"client_secret\":",
];

fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-._~+/=%".contains(c)
}

/// Masks whatever follows a credential marker (`Bearer `, `access_token=`, a JSON
/// `"access_token":` ...) with `***`. Case-insensitive on the marker.
pub fn scrub(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < text.len() {
        let hit = MARKERS.iter().find(|m| lower[i..].starts_with(*m));
        let Some(m) = hit else {
            let c = text[i..].chars().next().unwrap_or(' ');
            out.push(c);
            i += c.len_utf8();
            continue;
        };
        out.push_str(&text[i..i + m.len()]);
        i += m.len();
        while text[i..].starts_with([' ', '"']) {
            out.push_str(&text[i..i + 1]);
            i += 1;
        }
        let len: usize = text[i..]
            .chars()
            .take_while(|c| token_char(*c))
            .map(char::len_utf8)
            .sum();
        if len > 0 {
            out.push_str("***");
            i += len;
        }
    }
    out
}

/// `application/x-www-form-urlencoded` encoding of one value.
pub fn form_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("ya29.verysecret");
        assert_eq!(format!("{s} {s:?}"), "*** Secret(***)");
    }

    #[test]
    fn scrub_masks_what_follows_credential_markers() {
        let t = scrub("got Authorization: Bearer ya29.a0AfH6-x_y for url?access_token=abc123&x=1");
        assert_eq!(
            t,
            "got Authorization: Bearer *** for url?access_token=***&x=1"
        );
        let t = scrub(r#"{"access_token": "eyJ0eXAi.b.c", "expires_in": 3599}"#);
        assert_eq!(t, r#"{"access_token": "***", "expires_in": 3599}"#);
        assert_eq!(scrub("nothing here é"), "nothing here é");
    }

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(
            form_encode("https://management.azure.com/.default"),
            "https%3A%2F%2Fmanagement.azure.com%2F.default"
        );
        assert_eq!(form_encode("a b+c"), "a%20b%2Bc");
    }
}
