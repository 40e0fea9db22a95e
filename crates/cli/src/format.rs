//! Output formats of every command: `table` (aligned key/value lines), `json` (pretty, as
//! `--json`), and, for loading many runs into pandas, `jsonl` and `csv`: one flat record per run
//! with a stable column order (the command's key order; nested objects become dotted keys such as
//! `grad.de`, arrays a JSON string in one column, null an empty CSV field).

use serde_json::{Map, Value};

/// How a command prints its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// Aligned `key  value` lines (the default).
    Table,
    /// Pretty-printed JSON (the same as `--json`).
    Json,
    /// One flat JSON object on one line (concatenate runs into a JSON-lines file).
    Jsonl,
    /// A header line and one row of the flat record (append runs without the header).
    Csv,
}

/// The flat record of a result: nested objects as dotted keys, in the result's key order; an array
/// becomes its compact JSON text in one field.
pub fn flatten(v: &Value) -> Map<String, Value> {
    let mut out = Map::new();
    flatten_into("", v, &mut out);
    out
}

fn flatten_into(prefix: &str, v: &Value, out: &mut Map<String, Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                let key = if prefix.is_empty() { k.clone() } else { format!("{prefix}.{k}") };
                flatten_into(&key, x, out);
            }
        }
        Value::Array(_) => {
            out.insert(prefix.to_string(), Value::String(v.to_string()));
        }
        other => {
            out.insert(prefix.to_string(), other.clone());
        }
    }
}

/// One CSV field (RFC 4180 quoting; null → empty).
fn csv_field(v: &Value) -> String {
    let s = match v {
        Value::Null => return String::new(),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if s.contains([',', '"', '\n', '\r']) { format!("\"{}\"", s.replace('"', "\"\"")) } else { s }
}

/// Renders `v` in `format` (the text ends with a newline).
pub fn render(v: &Value, format: Format) -> Result<String, serde_json::Error> {
    Ok(match format {
        Format::Table => crate::render_text(v),
        Format::Json => format!("{}\n", serde_json::to_string_pretty(v)?),
        Format::Jsonl => format!("{}\n", serde_json::to_string(&Value::Object(flatten(v)))?),
        Format::Csv => {
            let flat = flatten(v);
            let header: Vec<String> = flat.keys().map(|k| csv_field(&Value::String(k.clone()))).collect();
            let row: Vec<String> = flat.values().map(csv_field).collect();
            format!("{}\n{}\n", header.join(","), row.join(","))
        }
    })
}

/// A CSV table of many records: the header is the first record's flat keys (in its order), then
/// one row per record (a key a record lacks is an empty field).
pub fn csv_rows(records: &[Value]) -> String {
    let flats: Vec<Map<String, Value>> = records.iter().map(flatten).collect();
    let Some(first) = flats.first() else { return String::new() };
    let header: Vec<&String> = first.keys().collect();
    let mut out = header.iter().map(|k| csv_field(&Value::String((*k).clone()))).collect::<Vec<_>>().join(",");
    out.push('\n');
    for f in &flats {
        let row: Vec<String> = header.iter().map(|k| f.get(*k).map_or_else(String::new, csv_field)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn flat_records_keep_key_order_and_quote() {
        let v = json!({ "p": 0.5, "grad": { "de": 1.0, "dw": null }, "curve": [1, 2], "note": "a, \"b\"" });
        let flat = flatten(&v);
        assert_eq!(flat.keys().collect::<Vec<_>>(), ["p", "grad.de", "grad.dw", "curve", "note"]);
        let csv = render(&v, Format::Csv).unwrap();
        assert_eq!(csv, "p,grad.de,grad.dw,curve,note\n0.5,1.0,,\"[1,2]\",\"a, \"\"b\"\"\"\n");
        let table = csv_rows(&[v.clone(), json!({ "p": 0.25, "note": "x" })]);
        assert_eq!(table, "p,grad.de,grad.dw,curve,note\n0.5,1.0,,\"[1,2]\",\"a, \"\"b\"\"\"\n0.25,,,,x\n");
        let jsonl = render(&v, Format::Jsonl).unwrap();
        assert_eq!(jsonl.lines().count(), 1);
        assert_eq!(serde_json::from_str::<Value>(&jsonl).unwrap()["grad.de"], 1.0);
    }
}
