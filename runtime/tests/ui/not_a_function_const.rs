use llmetry::tool;

#[tool(name = "limit")]
const LIMIT: u32 = 10;

fn main() {
    let _ = LIMIT;
}
