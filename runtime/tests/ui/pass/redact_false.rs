//! `redact = false` compiles on every entity kind, with other arguments.

#[llmetry::workflow(name = "billing", redact = false)]
fn billing(card: &str) -> String {
    charge(card)
}

#[llmetry::tool(redact = false, capture_output = false)]
fn charge(card: &str) -> String {
    format!("charged {card}")
}

#[llmetry::task(redact = true)]
async fn notify(email: String) -> usize {
    email.len()
}

fn main() {
    let _ = billing("4111 1111 1111 1111");
    let _ = notify("a@b.co".to_owned());
}
