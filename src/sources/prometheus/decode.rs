//! Typed decoding of Prometheus HTTP API responses. Values arrive as strings; "NaN", "+Inf"
//! and "-Inf" (and anything unparsable) become NaN, which the store keeps as missing.
//! Typed structs borrow the value strings from the body, which is what makes this several
//! times faster than going through `serde_json::Value`.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::Deserialize;

/// Label set of one series.
pub type Labels = BTreeMap<String, String>;

/// One sample: Unix time in milliseconds and a finite value or NaN (missing).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub timestamp_ms: i64,
    pub value: f64,
}

impl Point {
    pub fn timestamp_seconds(&self) -> i64 {
        self.timestamp_ms.div_euclid(1000)
    }
}

/// Parses a Prometheus sample value; non-finite values are missing.
pub fn parse_value(s: &str) -> f64 {
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => v,
        _ => f64::NAN,
    }
}

fn seconds_to_ms(t: f64) -> i64 {
    (t * 1000.0).round() as i64
}

impl<'de> Deserialize<'de> for Point {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PointVisitor;
        impl<'de> Visitor<'de> for PointVisitor {
            type Value = Point;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("[unix_seconds, \"value\"]")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Point, A::Error> {
                let t: f64 = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(0, &self))?;
                let v: ValueText = seq
                    .next_element()?
                    .ok_or_else(|| de::Error::invalid_length(1, &self))?;
                // Tolerate extra elements rather than failing a whole response.
                while seq.next_element::<de::IgnoredAny>()?.is_some() {}
                Ok(Point {
                    timestamp_ms: seconds_to_ms(t),
                    value: v.0,
                })
            }
        }
        d.deserialize_seq(PointVisitor)
    }
}

/// A sample value: a string per the API, parsed without allocating.
struct ValueText(f64);

impl<'de> Deserialize<'de> for ValueText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = ValueText;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a sample value string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<ValueText, E> {
                Ok(ValueText(parse_value(s)))
            }
            // Some compatible servers send bare numbers.
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<ValueText, E> {
                Ok(ValueText(if v.is_finite() { v } else { f64::NAN }))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<ValueText, E> {
                Ok(ValueText(v as f64))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<ValueText, E> {
                Ok(ValueText(v as f64))
            }
            fn visit_unit<E: de::Error>(self) -> Result<ValueText, E> {
                Ok(ValueText(f64::NAN))
            }
        }
        d.deserialize_any(V)
    }
}

/// One series of a `query_range` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct RangeSeries {
    #[serde(default)]
    pub metric: Labels,
    #[serde(default)]
    pub values: Vec<Point>,
}

/// One series of an instant `query` answer.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct InstantSeries {
    #[serde(default)]
    pub metric: Labels,
    pub value: Point,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "resultType", content = "result", rename_all = "lowercase")]
pub enum ResultData {
    Matrix(Vec<RangeSeries>),
    Vector(Vec<InstantSeries>),
    Scalar(Point),
    String(de::IgnoredAny),
}

/// The API envelope.
#[derive(Debug, Deserialize)]
pub struct ApiResponse {
    pub status: String,
    #[serde(default)]
    pub data: Option<ResultData>,
    #[serde(default, rename = "errorType")]
    pub error_type: Option<String>,
    #[serde(default)]
    pub error: Option<String>,
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// Why a body could not be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("malformed JSON: {0}")]
    Json(String),
    #[error("query failed ({error_type}): {message}")]
    Api { error_type: String, message: String },
    #[error("expected a {expected} result, got {got}")]
    WrongType {
        expected: &'static str,
        got: &'static str,
    },
}

/// The result and the server's warnings (e.g. "result truncated", PromQL info annotations).
fn envelope(body: &[u8]) -> Result<(ResultData, Vec<String>), DecodeError> {
    let r: ApiResponse =
        serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
    if r.status != "success" {
        return Err(DecodeError::Api {
            error_type: r.error_type.unwrap_or_else(|| "unknown".into()),
            message: r.error.unwrap_or_else(|| format!("status {}", r.status)),
        });
    }
    let data = r
        .data
        .ok_or_else(|| DecodeError::Json("success without data".into()))?;
    Ok((data, r.warnings))
}

fn kind(d: &ResultData) -> &'static str {
    match d {
        ResultData::Matrix(_) => "matrix",
        ResultData::Vector(_) => "vector",
        ResultData::Scalar(_) => "scalar",
        ResultData::String(_) => "string",
    }
}

/// Decodes a `query_range` body.
pub fn decode_matrix(body: &[u8]) -> Result<Vec<RangeSeries>, DecodeError> {
    decode_matrix_warned(body).map(|(m, _)| m)
}

/// Decodes a `query_range` body, keeping the server's warnings. The fast path scans the
/// `values` arrays by hand; anything it does not expect (and every error) goes through the
/// general typed decoder, so both give the same answer.
pub fn decode_matrix_warned(body: &[u8]) -> Result<(Vec<RangeSeries>, Vec<String>), DecodeError> {
    if let Some(done) = fast::decode_matrix(body) {
        return Ok(done);
    }
    decode_matrix_general(body)
}

/// The general typed decoder (serde all the way down); what the fast path falls back to, and
/// a second baseline in the bench.
pub fn decode_matrix_general(body: &[u8]) -> Result<(Vec<RangeSeries>, Vec<String>), DecodeError> {
    let (data, warnings) = envelope(body)?;
    match data {
        ResultData::Matrix(m) => Ok((m, warnings)),
        other => Err(DecodeError::WrongType {
            expected: "matrix",
            got: kind(&other),
        }),
    }
}

/// The envelope of `/api/v1/series`, `/api/v1/labels` and `/api/v1/label/NAME/values`,
/// whose `data` is a plain list.
#[derive(Debug, Deserialize)]
struct ListResponse<T> {
    status: String,
    #[serde(default = "Option::default")]
    data: Option<Vec<T>>,
    #[serde(default, rename = "errorType")]
    error_type: Option<String>,
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    warnings: Vec<String>,
}

fn list<'de, T: Deserialize<'de>>(body: &'de [u8]) -> Result<(Vec<T>, Vec<String>), DecodeError> {
    let r: ListResponse<T> =
        serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
    if r.status != "success" {
        return Err(DecodeError::Api {
            error_type: r.error_type.unwrap_or_else(|| "unknown".into()),
            message: r.error.unwrap_or_else(|| format!("status {}", r.status)),
        });
    }
    Ok((r.data.unwrap_or_default(), r.warnings))
}

/// Decodes a `/api/v1/series` body: one label set per series.
pub fn decode_series(body: &[u8]) -> Result<(Vec<Labels>, Vec<String>), DecodeError> {
    list(body)
}

/// Decodes a `/api/v1/labels` or `/api/v1/label/NAME/values` body.
pub fn decode_names(body: &[u8]) -> Result<(Vec<String>, Vec<String>), DecodeError> {
    list(body)
}

/// Decodes an instant `query` body; a scalar becomes one series without labels.
pub fn decode_vector(body: &[u8]) -> Result<Vec<InstantSeries>, DecodeError> {
    decode_vector_warned(body).map(|(v, _)| v)
}

/// Decodes an instant `query` body, keeping the server's warnings.
pub fn decode_vector_warned(body: &[u8]) -> Result<(Vec<InstantSeries>, Vec<String>), DecodeError> {
    let (data, warnings) = envelope(body)?;
    match data {
        ResultData::Vector(v) => Ok((v, warnings)),
        ResultData::Scalar(p) => Ok((
            vec![InstantSeries {
                metric: Labels::new(),
                value: p,
            }],
            warnings,
        )),
        other => Err(DecodeError::WrongType {
            expected: "vector",
            got: kind(&other),
        }),
    }
}

/// The fast path of [`decode_matrix_warned`]: labels and envelope through serde, each series'
/// `values` kept as raw JSON and scanned byte by byte. `None` means "not sure, take the
/// general path" (errors, escapes, exponents, extra elements, unusual key order).
mod fast {
    use serde::Deserialize;

    use super::{parse_value, Labels, Point, RangeSeries};

    /// Keys after `data` (warnings, infos), parsed by serde; they are rare and short.
    #[derive(Deserialize)]
    struct Tail {
        #[serde(default)]
        warnings: Vec<String>,
    }

    /// Prometheus' own shape, in its own key order:
    /// `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{..},"values":[..]},..]}..}`.
    /// Labels go through serde; the values are scanned by hand.
    pub fn decode_matrix(body: &[u8]) -> Option<(Vec<super::RangeSeries>, Vec<String>)> {
        let mut c = Cursor { b: body, i: 0 };
        c.eat(b'{')?;
        for (key, value) in [(&b"status"[..], &b"\"success\""[..]), (b"data", b"{")] {
            c.key(key)?;
            c.lit(value)?;
            if key == b"status" {
                c.eat(b',')?;
            }
        }
        c.key(b"resultType")?;
        c.lit(b"\"matrix\"")?;
        c.eat(b',')?;
        c.key(b"result")?;
        c.eat(b'[')?;
        let mut out = Vec::new();
        c.ws();
        if c.b.get(c.i) == Some(&b']') {
            c.i += 1;
        } else {
            loop {
                c.eat(b'{')?;
                c.key(b"metric")?;
                c.ws();
                let mut labels =
                    serde_json::Deserializer::from_slice(&body[c.i..]).into_iter::<Labels>();
                let metric = labels.next()?.ok()?;
                c.i += labels.byte_offset();
                c.eat(b',')?;
                c.key(b"values")?;
                let mut values = Vec::new();
                c.points(&mut values)?;
                c.eat(b'}')?;
                out.push(RangeSeries { metric, values });
                match c.next()? {
                    b',' => continue,
                    b']' => break,
                    _ => return None,
                }
            }
        }
        c.eat(b'}')?;
        let warnings = match c.next()? {
            b'}' => Vec::new(),
            b',' => {
                let mut rest = Vec::with_capacity(body.len() - c.i + 1);
                rest.push(b'{');
                rest.extend_from_slice(&body[c.i..]);
                let tail: Tail = serde_json::from_slice(&rest).ok()?;
                c.i = body.len();
                tail.warnings
            }
            _ => return None,
        };
        c.ws();
        (c.i == body.len()).then_some((out, warnings))
    }

    struct Cursor<'a> {
        b: &'a [u8],
        i: usize,
    }

    impl Cursor<'_> {
        fn ws(&mut self) {
            while self.b.get(self.i).is_some_and(u8::is_ascii_whitespace) {
                self.i += 1;
            }
        }
        fn eat(&mut self, c: u8) -> Option<()> {
            self.ws();
            (*self.b.get(self.i)? == c).then(|| self.i += 1)
        }
        /// Exactly these bytes (after whitespace).
        fn lit(&mut self, lit: &[u8]) -> Option<()> {
            self.ws();
            self.b[self.i..]
                .starts_with(lit)
                .then(|| self.i += lit.len())
        }
        /// `"name":`
        fn key(&mut self, name: &[u8]) -> Option<()> {
            self.eat(b'"')?;
            self.b[self.i..]
                .starts_with(name)
                .then(|| self.i += name.len())?;
            self.eat(b'"')?;
            self.eat(b':')
        }
        fn next(&mut self) -> Option<u8> {
            self.ws();
            let c = *self.b.get(self.i)?;
            self.i += 1;
            Some(c)
        }
        /// Unix seconds with up to three decimals, as milliseconds, exactly.
        fn timestamp_ms(&mut self) -> Option<i64> {
            self.ws();
            let neg = self.b.get(self.i) == Some(&b'-');
            if neg {
                self.i += 1;
            }
            let (whole, n) = digits(&self.b[self.i..]);
            if n == 0 || n > 15 {
                return None;
            }
            self.i += n;
            let mut ms = whole as i64 * 1000;
            if self.b.get(self.i) == Some(&b'.') {
                self.i += 1;
                let (frac, k) = digits(&self.b[self.i..]);
                if k == 0 || k > 3 {
                    return None;
                }
                self.i += k;
                ms += frac as i64 * [100, 10, 1][k - 1];
            }
            if matches!(self.b.get(self.i), Some(b'e' | b'E')) {
                return None;
            }
            Some(if neg { -ms } else { ms })
        }
        /// The bytes of a string without escapes.
        fn string(&mut self) -> Option<&[u8]> {
            self.eat(b'"')?;
            let start = self.i;
            let len = self.b[start..].iter().position(|&c| c == b'"')?;
            let s = &self.b[start..start + len];
            if s.contains(&b'\\') {
                return None;
            }
            self.i = start + len + 1;
            Some(s)
        }
    }

    /// Leading ASCII digits as a number (saturating) and how many there were.
    fn digits(b: &[u8]) -> (u64, usize) {
        let n = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let v = b[..n].iter().fold(0u64, |acc, &c| {
            acc.saturating_mul(10).saturating_add(u64::from(c - b'0'))
        });
        (v, n)
    }

    const POW10: [f64; 16] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
    ];

    /// A plain decimal of at most 15 digits is an exact integer over an exact power of ten,
    /// and one IEEE division of those is correctly rounded: the same double `str::parse`
    /// gives. Everything else (NaN, Inf, exponents, long digit strings) goes to `parse_value`.
    fn value(s: &[u8]) -> Option<f64> {
        let (neg, rest) = match s.first() {
            Some(b'-') => (true, &s[1..]),
            _ => (false, s),
        };
        let (whole, n) = digits(rest);
        let mut mantissa = whole;
        let mut scale = 0;
        let mut used = n;
        if n > 0 && rest.get(n) == Some(&b'.') {
            let (frac, k) = digits(&rest[n + 1..]);
            if k > 0 && n + k <= 15 {
                mantissa = whole * POW10[k] as u64 + frac;
                scale = k;
                used = n + 1 + k;
            } else {
                used = usize::MAX;
            }
        }
        if n > 0 && n <= 15 && used == rest.len() {
            let v = mantissa as f64 / POW10[scale];
            return Some(if neg { -v } else { v });
        }
        Some(parse_value(std::str::from_utf8(s).ok()?))
    }

    impl Cursor<'_> {
        /// A `values` array: `[[unix_seconds,"value"],..]`.
        fn points(&mut self, out: &mut Vec<Point>) -> Option<()> {
            self.eat(b'[')?;
            self.ws();
            if self.b.get(self.i) == Some(&b']') {
                self.i += 1;
                return Some(());
            }
            loop {
                self.eat(b'[')?;
                let timestamp_ms = self.timestamp_ms()?;
                self.eat(b',')?;
                let v = value(self.string()?)?;
                self.eat(b']')?;
                out.push(Point {
                    timestamp_ms,
                    value: v,
                });
                match self.next()? {
                    b',' => continue,
                    b']' => return Some(()),
                    _ => return None,
                }
            }
        }
    }

    #[cfg(test)]
    fn scan_points(raw: &[u8], out: &mut Vec<Point>) -> Option<()> {
        let mut c = Cursor { b: raw, i: 0 };
        c.points(out)?;
        c.ws();
        (c.i == raw.len()).then_some(())
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn plain_decimals_parse_exactly_as_std_does() {
            for s in [
                "0",
                "1",
                "-3",
                "2.5",
                "0.1",
                "0.3",
                "123456.789",
                "99999999999999.9",
                "1.000",
                "-0.000001",
                "12345678901234567890",
                "1e3",
                "NaN",
                "+Inf",
                "-Inf",
                "1.",
                ".5",
            ] {
                let want = parse_value(s);
                let got = value(s.as_bytes()).unwrap_or(f64::INFINITY);
                assert!(
                    (got.is_nan() && want.is_nan()) || got.to_bits() == want.to_bits(),
                    "{s}: {got} vs {want}"
                );
            }
        }

        #[test]
        fn whole_bodies_match_the_general_path_or_decline() {
            let bodies: [&[u8]; 5] = [
                br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{"a":"x\"y"},"values":[[1,"2"],[2.5,"NaN"]]},{"metric":{},"values":[]}]}}"#,
                br#"{"status":"success","data":{"resultType":"matrix","result":[]},"warnings":["w1"],"infos":["i"]}"#,
                br#" { "status" : "success" , "data" : { "resultType" : "matrix" , "result" : [ { "metric" : { } , "values" : [ [ 1 , "1e3" ] ] } ] } } "#,
                br#"{"data":{"resultType":"matrix","result":[]},"status":"success"}"#,
                br#"{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"2"]]}]}} x"#,
            ];
            for body in bodies {
                let general = super::super::decode_matrix_general(body);
                match decode_matrix(body) {
                    // Debug text, since NaN != NaN.
                    Some(fast) => {
                        assert_eq!(format!("{:?}", Some(fast)), format!("{:?}", general.ok()))
                    }
                    None => assert!(
                        body.starts_with(br#"{"data""#) || general.is_err(),
                        "declined a plain body"
                    ),
                }
            }
        }

        #[test]
        fn scanner_matches_the_general_decoder_or_declines() {
            let cases: [&[u8]; 5] = [
                br#"[[1700000000,"1"],[1700000015.5,"NaN"], [ 1700000030 , "2.25" ]]"#,
                br#"[]"#,
                br#"[[1700000000.1234,"1"]]"#,
                br#"[[1.7e9,"1"]]"#,
                br#"[[1700000000,"1",3]]"#,
            ];
            for raw in cases {
                let mut fast = Vec::new();
                let general: Vec<Point> = serde_json::from_slice(raw).expect("valid");
                if scan_points(raw, &mut fast).is_some() {
                    assert_eq!(fast.len(), general.len());
                    for (a, b) in fast.iter().zip(&general) {
                        assert_eq!(a.timestamp_ms, b.timestamp_ms);
                        assert!(
                            a.value.to_bits() == b.value.to_bits()
                                || (a.value.is_nan() && b.value.is_nan())
                        );
                    }
                } else {
                    assert!(raw.len() > 2, "simple cases take the fast path");
                }
            }
        }
    }
}

/// The baseline the bench compares against: the same result through `serde_json::Value`.
pub fn decode_matrix_via_value(body: &[u8]) -> Result<Vec<RangeSeries>, DecodeError> {
    let v: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
    let result = v["data"]["result"]
        .as_array()
        .ok_or_else(|| DecodeError::Json("no data.result".into()))?;
    Ok(result
        .iter()
        .map(|s| RangeSeries {
            metric: s["metric"]
                .as_object()
                .map(|m| {
                    m.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            values: s["values"]
                .as_array()
                .map(|vs| {
                    vs.iter()
                        .map(|p| Point {
                            timestamp_ms: seconds_to_ms(p[0].as_f64().unwrap_or(f64::NAN)),
                            value: parse_value(p[1].as_str().unwrap_or("NaN")),
                        })
                        .collect()
                })
                .unwrap_or_default(),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matrix_with_nan_and_inf_is_missing() {
        let body = br#"{"status":"success","data":{"resultType":"matrix","result":[
            {"metric":{"__name__":"up","job":"a"},"values":[[1700000000,"1"],[1700000015.5,"NaN"],[1700000030,"+Inf"],[1700000045,"-Inf"],[1700000060,"2.5e3"]]}]}}"#;
        let m = decode_matrix(body).expect("decodes");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].metric["job"], "a");
        let v = &m[0].values;
        assert_eq!(
            v[0],
            Point {
                timestamp_ms: 1_700_000_000_000,
                value: 1.0
            }
        );
        assert_eq!(v[1].timestamp_ms, 1_700_000_015_500);
        assert!(v[1].value.is_nan() && v[2].value.is_nan() && v[3].value.is_nan());
        assert_eq!(v[4].value, 2500.0);
        assert_eq!(decode_matrix_via_value(body).expect("same").len(), 1);
    }

    #[test]
    fn series_and_label_lists() {
        let body = br#"{"status":"success","data":[{"__name__":"up","job":"a"},{"__name__":"up","job":"b"}]}"#;
        let (series, warnings) = decode_series(body).expect("decodes");
        assert_eq!(series.len(), 2);
        assert_eq!(series[1]["job"], "b");
        assert!(warnings.is_empty());
        let names = br#"{"status":"success","data":["__name__","job"],"warnings":["w"]}"#;
        assert_eq!(
            decode_names(names).expect("decodes"),
            (
                vec!["__name__".to_string(), "job".to_string()],
                vec!["w".to_string()]
            )
        );
        let err = br#"{"status":"error","errorType":"bad_data","error":"no match[]"}"#;
        assert!(matches!(decode_series(err), Err(DecodeError::Api { .. })));
    }

    #[test]
    fn errors_are_typed_not_panics() {
        let err = br#"{"status":"error","errorType":"bad_data","error":"parse error at char 3"}"#;
        assert!(matches!(decode_matrix(err), Err(DecodeError::Api { .. })));
        assert!(matches!(
            decode_matrix(b"{\"status\":\"succ"),
            Err(DecodeError::Json(_))
        ));
        assert!(matches!(
            decode_matrix(b"<html>"),
            Err(DecodeError::Json(_))
        ));
        let vector = br#"{"status":"success","data":{"resultType":"vector","result":[]}}"#;
        assert!(matches!(
            decode_matrix(vector),
            Err(DecodeError::WrongType { .. })
        ));
        assert_eq!(decode_vector(vector).expect("empty ok"), vec![]);
    }
}
