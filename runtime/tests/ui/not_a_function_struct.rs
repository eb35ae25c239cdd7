use llmetry::task;

#[task]
struct Evidence {
    host: String,
}

fn main() {
    let _ = Evidence {
        host: String::new(),
    }
    .host;
}
