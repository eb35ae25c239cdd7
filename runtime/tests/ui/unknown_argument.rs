use llmetry::task;

#[task(nmae = "fetch_logs")]
fn fetch_logs() -> u32 {
    1
}

fn main() {
    let _ = fetch_logs();
}
