//! Decoding a Prometheus `query_range` answer of 1,000 series x 1,440 points: the typed decoder
//! the source uses (hand-scanned values), its general serde path, and decoding through
//! `serde_json::Value` first (the naive way), in the same run. Reports time and throughput
//! (bytes of JSON per second).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use scaletop::sources::prometheus::decode::{
    decode_matrix, decode_matrix_general, decode_matrix_via_value,
};

fn response(series: usize, points: usize) -> Vec<u8> {
    let mut s = String::from(r#"{"status":"success","data":{"resultType":"matrix","result":["#);
    for i in 0..series {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&format!(
            r#"{{"metric":{{"__name__":"kube_horizontalpodautoscaler_status_current_replicas","namespace":"shop","horizontalpodautoscaler":"svc-{i}"}},"values":["#
        ));
        for p in 0..points {
            if p > 0 {
                s.push(',');
            }
            let v = if p % 97 == 0 {
                "NaN".to_string()
            } else {
                format!("{}.{}", (i * 7 + p) % 500, p % 10)
            };
            s.push_str(&format!(r#"[{},"{v}"]"#, 1_700_000_000 + p as i64 * 60));
        }
        s.push_str("]}");
    }
    s.push_str("]}}");
    s.into_bytes()
}

fn bench(c: &mut Criterion) {
    let body = response(1_000, 1_440);
    let mut g = c.benchmark_group("query_range_1000x1440");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(body.len() as u64));
    g.bench_function("typed_decoder", |b| {
        b.iter(|| decode_matrix(&body).map(|s| s.len()).unwrap_or(0))
    });
    g.bench_function("typed_general_path", |b| {
        b.iter(|| decode_matrix_general(&body).map(|s| s.0.len()).unwrap_or(0))
    });
    g.bench_function("via_serde_json_value", |b| {
        b.iter(|| decode_matrix_via_value(&body).map(|s| s.len()).unwrap_or(0))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
