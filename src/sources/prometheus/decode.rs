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

fn envelope(body: &[u8]) -> Result<ResultData, DecodeError> {
    let r: ApiResponse =
        serde_json::from_slice(body).map_err(|e| DecodeError::Json(e.to_string()))?;
    if r.status != "success" {
        return Err(DecodeError::Api {
            error_type: r.error_type.unwrap_or_else(|| "unknown".into()),
            message: r.error.unwrap_or_else(|| format!("status {}", r.status)),
        });
    }
    r.data
        .ok_or_else(|| DecodeError::Json("success without data".into()))
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
    match envelope(body)? {
        ResultData::Matrix(m) => Ok(m),
        other => Err(DecodeError::WrongType {
            expected: "matrix",
            got: kind(&other),
        }),
    }
}

/// Decodes an instant `query` body; a scalar becomes one series without labels.
pub fn decode_vector(body: &[u8]) -> Result<Vec<InstantSeries>, DecodeError> {
    match envelope(body)? {
        ResultData::Vector(v) => Ok(v),
        ResultData::Scalar(p) => Ok(vec![InstantSeries {
            metric: Labels::new(),
            value: p,
        }]),
        other => Err(DecodeError::WrongType {
            expected: "vector",
            got: kind(&other),
        }),
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
