use llmetry::tool;

#[tool(name = "lookup", redact = "no")]
fn lookup(card: &str) -> usize {
    card.len()
}

fn main() {
    let _ = lookup("4111");
}
