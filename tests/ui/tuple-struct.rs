use versioned::Versioned;

#[derive(Versioned)]
struct User(i64, String, #[version] i64);

fn main() {}
