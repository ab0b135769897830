//! What the server's integration tests share.

use std::path::Path;

/// Adds to a copy of the example, for each row of the revenue and usage
/// tables, the same row three months earlier, and for each row of the acr
/// and licenses tables the same row six months earlier: data in months
/// whose source lines a server does not hold (its default pages explain
/// 2023-10 and 2023-11), while the newest complete month stays 2023-10.
pub fn add_earlier_rows(dir: &Path) {
    for (table, column, by) in [
        ("revenue", "month", 3),
        ("usage", "month", 3),
        ("acr", "month", 6),
        ("licenses", "month", 6),
    ] {
        let path = dir.join(format!("{table}.csv"));
        let text = std::fs::read_to_string(&path).unwrap();
        let mut lines = text.lines();
        let header = lines.next().unwrap();
        let at = header.split(',').position(|c| c == column).unwrap();
        let mut out = text.clone();
        if !out.ends_with('\n') {
            out.push('\n');
        }
        for line in lines.filter(|l| !l.contains('"') && !l.is_empty()) {
            let mut fields: Vec<String> = line.split(',').map(str::to_string).collect();
            let m: pcs_core::calendar::Month = fields[at].parse().unwrap();
            fields[at] = m.minus(by).to_string();
            out.push_str(&fields.join(","));
            out.push('\n');
        }
        std::fs::write(&path, out).unwrap();
    }
}
