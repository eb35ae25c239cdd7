use llmetry::tool;

#[tool(skip(api_kye))]
fn search(query: &str, api_key: &str) -> usize {
    query.len() + api_key.len()
}

fn main() {
    let _ = search("q", "k");
}
