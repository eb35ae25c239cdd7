use llmetry::workflow;

#[workflow(skip(api_key), skip_all)]
fn run(query: &str, api_key: &str) -> usize {
    query.len() + api_key.len()
}

fn main() {
    let _ = run("q", "k");
}
