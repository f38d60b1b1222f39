use versioned::Versioned;

#[derive(Versioned)]
struct Line {
    #[id(auto)]
    order_id: i64,
    #[id]
    sku: String,
    #[version]
    version: i64,
}

fn main() {}
