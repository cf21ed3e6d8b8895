//! A small writer for the subset of Terraform's HCL the emitters need: blocks with labels,
//! attributes (strings, numbers, booleans, lists, maps, references) and nested blocks.

use std::fmt::Write;

/// An attribute value.
#[derive(Debug, Clone, PartialEq)]
pub enum Hv {
    Str(String),
    Num(f64),
    Bool(bool),
    /// A bare expression: `var.zone`, `aws_autoscaling_policy.up.arn`.
    Ref(String),
    List(Vec<Hv>),
    Map(Vec<(String, Hv)>),
}

impl From<&str> for Hv {
    fn from(s: &str) -> Self {
        Hv::Str(s.to_string())
    }
}
impl From<String> for Hv {
    fn from(s: String) -> Self {
        Hv::Str(s)
    }
}
impl From<u32> for Hv {
    fn from(n: u32) -> Self {
        Hv::Num(f64::from(n))
    }
}
impl From<f64> for Hv {
    fn from(n: f64) -> Self {
        Hv::Num(n)
    }
}
impl From<bool> for Hv {
    fn from(b: bool) -> Self {
        Hv::Bool(b)
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Block {
    pub kind: String,
    pub labels: Vec<String>,
    pub attrs: Vec<(String, Hv)>,
    pub blocks: Vec<Block>,
}

impl Block {
    pub fn new(kind: &str, labels: &[&str]) -> Self {
        Self {
            kind: kind.into(),
            labels: labels.iter().map(|l| l.to_string()).collect(),
            ..Default::default()
        }
    }

    pub fn attr(mut self, key: &str, value: impl Into<Hv>) -> Self {
        self.attrs.push((key.into(), value.into()));
        self
    }

    /// Adds the attribute when there is a value.
    pub fn opt<V: Into<Hv>>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.attr(key, v),
            None => self,
        }
    }

    pub fn block(mut self, b: Block) -> Self {
        self.blocks.push(b);
        self
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        self.write(&mut out, 0);
        out
    }

    fn write(&self, out: &mut String, depth: usize) {
        let pad = "  ".repeat(depth);
        let labels: String = self
            .labels
            .iter()
            .map(|l| format!(" {}", quote(l)))
            .collect();
        let _ = writeln!(out, "{pad}{}{labels} {{", self.kind);
        let width = self.attrs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
        for (k, v) in &self.attrs {
            let _ = writeln!(out, "{pad}  {k:<width$} = {}", value(v, depth + 1));
        }
        for (i, b) in self.blocks.iter().enumerate() {
            if i > 0 || !self.attrs.is_empty() {
                out.push('\n');
            }
            b.write(out, depth + 1);
        }
        let _ = writeln!(out, "{pad}}}");
    }
}

/// A Terraform string literal. `${` and `%{` start templates, so they are escaped.
pub fn quote(s: &str) -> String {
    let mut q = String::from("\"");
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => q.push_str("\\\""),
            '\\' => q.push_str("\\\\"),
            '\n' => q.push_str("\\n"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                q.push(c);
                q.push(c);
            }
            c => q.push(c),
        }
    }
    q.push('"');
    q
}

fn number(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e15 {
        format!("{}", n as i64)
    } else {
        format!("{n}")
    }
}

fn value(v: &Hv, depth: usize) -> String {
    match v {
        Hv::Str(s) => quote(s),
        Hv::Num(n) => number(*n),
        Hv::Bool(b) => b.to_string(),
        Hv::Ref(r) => r.clone(),
        Hv::List(items) => {
            let parts: Vec<String> = items.iter().map(|i| value(i, depth)).collect();
            format!("[{}]", parts.join(", "))
        }
        Hv::Map(pairs) => {
            let pad = "  ".repeat(depth);
            let mut s = String::from("{\n");
            for (k, v) in pairs {
                let _ = writeln!(s, "{pad}  {k} = {}", value(v, depth + 1));
            }
            s.push_str(&pad);
            s.push('}');
            s
        }
    }
}

/// `variable "name" { type = string, description = ... }` for inputs scaletop cannot know.
pub fn variable(name: &str, description: &str) -> Block {
    Block::new("variable", &[name])
        .attr("type", Hv::Ref("string".into()))
        .attr("description", description)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_nested_blocks_and_escapes_templates() {
        let b = Block::new("resource", &["aws_autoscaling_policy", "cpu"])
            .attr("name", "cpu")
            .attr("target", 50.0)
            .attr("asg", Hv::Ref("var.asg".into()))
            .attr("note", "costs ${money}")
            .block(
                Block::new("target_tracking_configuration", &[]).attr("disable_scale_in", false),
            );
        assert_eq!(
            b.render(),
            "resource \"aws_autoscaling_policy\" \"cpu\" {\n  name   = \"cpu\"\n  target = 50\n  asg    = var.asg\n  note   = \"costs $${money}\"\n\n  target_tracking_configuration {\n    disable_scale_in = false\n  }\n}\n"
        );
    }
}
