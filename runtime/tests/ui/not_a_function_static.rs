use llmetry::tool;

fn double(x: u32) -> u32 {
    x * 2
}

#[tool]
static HANDLER: fn(u32) -> u32 = double;

fn main() {
    let _ = HANDLER(1);
}
