use versioned::Versioned;

#[derive(Versioned)]
#[versioned(tabel = "users")]
struct User {
    #[id(autoo)]
    id: i64,
    #[versioned(colum = "email_address")]
    email: String,
}

fn main() {}
