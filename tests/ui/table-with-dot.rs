use versioned::Versioned;

#[derive(Versioned)]
#[versioned(table = "app.users")]
struct User {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
