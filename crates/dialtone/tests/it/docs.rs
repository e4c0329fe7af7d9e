//! The compatibility table in `docs/compatibility.md` lists every operation of the subset
//! with its status, and is kept current by this test. `DIALTONE_BLESS=1` rewrites it.

use dialtone_api::ops::{self, Product};

const START: &str = "<!-- operations:start -->";
const END: &str = "<!-- operations:end -->";

fn product_name(p: Product) -> (&'static str, u32) {
    match p {
        Product::Accounts => ("Accounts", 2),
        Product::Webhooks => ("Webhooks", 3),
        Product::Messaging => ("Messaging", 4),
        Product::Numbers => ("Numbers", 4),
        Product::Voice => ("Voice", 5),
        Product::Video => ("Video", 6),
    }
}

fn table() -> String {
    let built = dialtone_api::handlers::implemented();
    let mut rows: Vec<_> = ops::all().iter().collect();
    rows.sort_by_key(|o| (product_name(o.product).1, product_name(o.product).0, o.path.clone(), o.method.clone()));
    let mut out = String::from("| product | method | path | operationId | status |\n|---|---|---|---|---|\n");
    for o in rows {
        let (name, issue) = product_name(o.product);
        let status = if built.contains(&o.operation_id.as_str()) {
            "built".to_owned()
        } else {
            format!("501, planned in issue {issue}")
        };
        out.push_str(&format!("| {name} | {} | `{}` | `{}` | {status} |\n", o.method, o.path, o.operation_id));
    }
    let n = built.len();
    out.push_str(&format!("\n{n} of {} operations built.\n", ops::all().len()));
    out
}

#[test]
fn compatibility_table_is_current() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/compatibility.md");
    let doc = std::fs::read_to_string(&path).expect("docs/compatibility.md exists");
    let (head, rest) = doc.split_once(START).expect("start marker");
    let (_, tail) = rest.split_once(END).expect("end marker");
    let want = format!("{head}{START}\n{}{END}{tail}", table());
    if std::env::var("DIALTONE_BLESS").is_ok() {
        std::fs::write(&path, &want).unwrap();
        return;
    }
    assert!(
        doc == want,
        "docs/compatibility.md is out of date: run DIALTONE_BLESS=1 cargo nextest run -p dialtone docs::"
    );
}
