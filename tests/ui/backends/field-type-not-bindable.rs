use versioned::Versioned;

struct Email(String);

#[derive(Versioned)]
struct User {
    id: i64,
    email: Email,
    #[version]
    version: i64,
}

fn main() {
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    let _ = User::find(&conn, 1);
}
