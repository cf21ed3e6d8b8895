//! config.example.toml must parse, and must document every key the program knows.

use scaletop::config::{self, Config};

const EXAMPLE: &str = include_str!("../config.example.toml");

#[test]
fn example_config_parses() {
    let cfg = config::parse(EXAMPLE, "config.example.toml").expect("example config parses");
    assert_eq!(cfg.general, Config::default().general);
    assert_eq!(cfg.demo, Config::default().demo);
    assert_eq!(cfg.ui, Config::default().ui);
}

fn keys(prefix: &str, value: &toml::Value, out: &mut Vec<String>) {
    if let toml::Value::Table(t) = value {
        for (k, v) in t {
            let path = if prefix.is_empty() {
                k.clone()
            } else {
                format!("{prefix}.{k}")
            };
            out.push(path.clone());
            keys(&path, v, out);
        }
    }
}

#[test]
fn example_documents_every_key() {
    let defaults = toml::Value::try_from(Config::default()).expect("defaults serialise");
    let mut known = Vec::new();
    keys("", &defaults, &mut known);
    let example: toml::Value = toml::from_str(EXAMPLE).expect("example is TOML");
    let mut documented = Vec::new();
    keys("", &example, &mut documented);
    let missing: Vec<_> = known.iter().filter(|k| !documented.contains(k)).collect();
    assert!(
        missing.is_empty(),
        "keys missing from config.example.toml: {missing:?}"
    );
    // Every action the keymap knows is listed in the example's [keys] comment.
    for b in scaletop::tui::keymap::BINDINGS {
        assert!(
            EXAMPLE.contains(&format!(" {}", b.name)) || EXAMPLE.contains(&format!("{} =", b.name)),
            "action '{}' is not documented in config.example.toml",
            b.name
        );
    }
}
