//! Ruleset text kept as pieces, some shared: the pods of one workload have
//! the same NetworkPolicy rules, and at 150,000 pods one copy of them per
//! chain is hundreds of megabytes held until the sets before them are written.

use std::fmt;
use std::io::{self, Write};
use std::rc::Rc;

#[derive(Default)]
pub(crate) struct Text(Vec<Piece>);

enum Piece {
    Own(String),
    Shared(Rc<str>),
}

impl Text {
    pub fn push_str(&mut self, s: &str) {
        if let Some(Piece::Own(last)) = self.0.last_mut() {
            last.push_str(s);
        } else {
            self.0.push(Piece::Own(s.to_string()));
        }
    }

    pub fn push_shared(&mut self, s: Rc<str>) {
        if !s.is_empty() {
            self.0.push(Piece::Shared(s));
        }
    }

    pub fn append(&mut self, other: Text) {
        for piece in other.0 {
            match piece {
                Piece::Own(s) => self.push_str(&s),
                Piece::Shared(s) => self.push_shared(s),
            }
        }
    }

    pub fn write_to(&self, out: &mut dyn Write) -> io::Result<()> {
        for piece in &self.0 {
            out.write_all(match piece {
                Piece::Own(s) => s.as_bytes(),
                Piece::Shared(s) => s.as_bytes(),
            })?;
        }
        Ok(())
    }
}

impl fmt::Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        self.push_str(s);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn pieces_read_back_in_order() {
        let shared: Rc<str> = "shared\n".into();
        let mut inner = Text::default();
        inner.push_shared(shared.clone());
        let _ = write!(inner, "{}-", 1);
        let mut text = Text::default();
        text.push_str("a");
        text.append(inner);
        text.push_str("b");
        text.push_shared(shared);
        let mut out = Vec::new();
        text.write_to(&mut out).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "ashared\n1-bshared\n");
    }
}
