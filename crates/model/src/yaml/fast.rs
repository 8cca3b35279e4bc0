//! A fast reader for the block YAML that `kubectl get -o yaml`, Helm and
//! netpol-synth write: block mappings and sequences, `- key: v` items,
//! one-line plain and quoted scalars, `{}` and `[]`, one-line flow
//! sequences of scalars (`["a", "b"]`), comments, `---` and `...`, blank
//! lines.
//!
//! It produces the very events (with their lines) that yaml-rust2 would
//! send for the same text, into the same [`Builder`], so values, lines,
//! budget and every check stay one piece of code. It reads nothing it is
//! not sure of: anchors, aliases, tags, block scalars, multi-line scalars,
//! other flow collections with content, complex keys, tabs, directives, a BOM,
//! `\r`, odd indentation or any error make it decline, and the whole text
//! is then read by yaml-rust2 (declining is always safe; disagreeing
//! never is). The tests in `fast_tests.rs` hold it to yaml-rust2.

use std::borrow::Cow;

use rayon::prelude::*;

use yaml_rust2::parser::Event;
use yaml_rust2::scanner::TScalarStyle;

use super::{Budget, Builder, Document, MAX_DEPTH};

/// yaml-rust2 stops taking a would-be key as one 1024 characters after it
/// starts; longer keys (counted in bytes, which is more) are left to it.
const MAX_KEY: usize = 1000;

/// The documents of `text` when the fast path reads all of it, charged to
/// `budget` in one piece; `None` when yaml-rust2 must read it.
pub(super) fn parse(
    text: &str,
    budget: &Budget,
    max_documents: Option<usize>,
) -> Option<Vec<Document>> {
    // Its own count first: the shared budget is charged only when the text
    // is taken, so that a text read twice is never charged twice.
    let mut builder = Builder {
        max_documents,
        ..Builder::default()
    };
    events(text, &mut builder)?;
    if builder.error.is_some() {
        return None;
    }
    let (nodes, bytes) = builder.used;
    budget.try_charge(nodes, bytes).then_some(builder.docs)
}

/// What the events go to: the [`Builder`], the tokens of a document kept
/// to be read twice, or a test's recorder.
pub(super) trait Sink<'t> {
    fn event(&mut self, ev: Event, line: usize);

    /// A scalar, borrowed from the text when it is written there as it reads.
    fn scalar(&mut self, text: Cow<'t, str>, style: TScalarStyle, line: usize) {
        self.event(Event::Scalar(text.into_owned(), style, 0, None), line);
    }
}

impl Sink<'_> for Builder<'_> {
    fn event(&mut self, ev: Event, line: usize) {
        Builder::event(self, ev, line);
    }
}

/// Sends the events of `text` to `sink`; `None` (with some events sent)
/// when the text is not one the fast path reads.
pub(super) fn events<'t, S: Sink<'t>>(text: &'t str, sink: &mut S) -> Option<()> {
    if !plain_text(text) {
        return None;
    }
    let mut reader = Reader {
        lines: Lines::new(text, 1),
        sink,
        depth: 0,
    };
    reader.stream()?;
    (!reader.lines.bad).then_some(())
}

/// Sends the events of one item of a block sequence at `column`, two
/// levels deep in its document (a List's `items`), as a document of its
/// own: `text` is its lines, the first being `first` of the whole text,
/// which [`plain_text`] has passed.
pub(super) fn item_events<'t, S: Sink<'t>>(
    text: &'t str,
    first: usize,
    column: usize,
    sink: &mut S,
) -> Option<()> {
    let mut reader = Reader {
        lines: Lines::new(text, first),
        sink,
        // The List's mapping and its `items`, for the depth limit.
        depth: 2,
    };
    let line = reader.lines.next()?;
    if line.kind != Kind::Content || line.indent != column || !is_dash(line.body) {
        return None;
    }
    reader.sink.event(Event::DocumentStart, line.no);
    reader.item(line.no, line.body, column)?;
    if reader.lines.peek().is_some() || reader.lines.bad {
        return None;
    }
    reader.sink.event(Event::DocumentEnd, line.no);
    Some(())
}

/// No character that yaml-rust2 treats in a way of its own: control
/// characters (tabs and `\r` among them; `\0` ends its input), C1 controls,
/// the Unicode line and paragraph separators, a byte order mark.
pub(super) fn plain_text(text: &str) -> bool {
    // A large text (a whole dump) is looked at in parallel parts; a
    // character's bytes may run past its part's end.
    const PART: usize = 1 << 20;
    let b = text.as_bytes();
    let part = |k: usize| plain_bytes(b, k * PART..((k + 1) * PART).min(b.len()));
    if b.len() <= PART {
        return part(0);
    }
    (0..b.len().div_ceil(PART)).into_par_iter().all(part)
}

fn plain_bytes(b: &[u8], range: std::ops::Range<usize>) -> bool {
    // Printable ASCII and newlines, which are nearly all of a manifest,
    // in a loop the compiler vectorizes; the rest byte by byte.
    let printable = |block: &[u8]| {
        block.iter().fold(true, |ok, &c| {
            ok & ((0x20..0x7f).contains(&c) | (c == b'\n'))
        })
    };
    if b[range.clone()].chunks(4096).all(printable) {
        return true;
    }
    for i in range {
        let bad = match b[i] {
            b'\n' => false,
            0..=0x1f | 0x7f => true,
            0xc2 => matches!(b.get(i + 1), Some(0x80..=0x9f)),
            0xe2 => b.get(i + 1) == Some(&0x80) && matches!(b.get(i + 2), Some(0xa8 | 0xa9)),
            0xef => b.get(i + 1) == Some(&0xbb) && b.get(i + 2) == Some(&0xbf),
            _ => false,
        };
        if bad {
            return false;
        }
    }
    true
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum Kind {
    Content,
    /// `---`
    Start,
    /// `...`
    End,
}

/// A line that is not blank and not only a comment.
#[derive(Clone, Copy, Debug)]
pub(super) struct Line<'t> {
    pub no: usize,
    /// Where it starts in the text.
    pub start: usize,
    pub indent: usize,
    /// From the first non-space character to the end of the line.
    pub body: &'t str,
    pub kind: Kind,
}

/// The lines that matter, one ahead.
pub(super) struct Lines<'t> {
    rest: Option<&'t str>,
    /// Where `rest` starts in the text.
    at: usize,
    no: usize,
    peeked: Option<Option<Line<'t>>>,
    /// A line no reading here can take (`--- a`): the text is declined.
    pub bad: bool,
}

impl<'t> Lines<'t> {
    /// The lines of `text`, whose first line is line `first`.
    pub fn new(text: &'t str, first: usize) -> Self {
        Lines {
            rest: Some(text),
            at: 0,
            no: first - 1,
            peeked: None,
            bad: false,
        }
    }

    pub fn peek(&mut self) -> Option<Line<'t>> {
        if self.peeked.is_none() {
            self.peeked = Some(self.read());
        }
        self.peeked.flatten()
    }

    pub fn next(&mut self) -> Option<Line<'t>> {
        let line = self.peek();
        self.peeked = None;
        line
    }

    fn read(&mut self) -> Option<Line<'t>> {
        while let Some(rest) = self.rest {
            let (line, rest) = match rest.find('\n') {
                Some(i) => (&rest[..i], Some(&rest[i + 1..])),
                None => (rest, None),
            };
            let start = self.at;
            self.at += line.len() + 1;
            self.rest = rest;
            self.no += 1;
            let body = line.trim_start_matches(' ');
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            let indent = line.len() - body.len();
            let kind = match marker(indent, body) {
                Some(Some(kind)) => kind,
                Some(None) => {
                    // Content after a document marker: an end of input
                    // that makes the whole text declined.
                    self.bad = true;
                    self.rest = None;
                    return None;
                }
                None => Kind::Content,
            };
            return Some(Line {
                no: self.no,
                start,
                indent,
                body,
                kind,
            });
        }
        None
    }
}

/// Whether a line is a document marker: `Some(Some(kind))` for one alone
/// (a comment may follow), `Some(None)` for one with content after it,
/// `None` for no marker.
fn marker(indent: usize, body: &str) -> Option<Option<Kind>> {
    if indent != 0 || body.len() < 3 {
        return None;
    }
    let kind = match &body.as_bytes()[..3] {
        b"---" => Kind::Start,
        b"..." => Kind::End,
        _ => return None,
    };
    let after = &body[3..];
    if !(after.is_empty() || after.starts_with(' ')) {
        return None;
    }
    let after = after.trim_start_matches(' ');
    Some((after.is_empty() || after.starts_with('#')).then_some(kind))
}

/// `- ` or a lone `-`: a block sequence entry.
pub(super) fn is_dash(body: &str) -> bool {
    body == "-" || body.starts_with("- ")
}

struct Reader<'t, 's, S: Sink<'t>> {
    lines: Lines<'t>,
    sink: &'s mut S,
    /// Open collections: far below what would exhaust the stack.
    depth: usize,
}

impl<'t, S: Sink<'t>> Reader<'t, '_, S> {
    fn stream(&mut self) -> Option<()> {
        self.sink.event(Event::StreamStart, 1);
        while let Some(line) = self.lines.peek() {
            match line.kind {
                // Outside a document `...` ends nothing.
                Kind::End => {
                    self.lines.next();
                }
                Kind::Start => {
                    self.lines.next();
                    self.sink.event(Event::DocumentStart, line.no);
                    match self.lines.peek() {
                        Some(next) if next.kind == Kind::Content => self.root()?,
                        next => self.null(next.map_or(line.no, |n| n.no)),
                    }
                    self.document_end(line.no);
                }
                Kind::Content => {
                    self.sink.event(Event::DocumentStart, line.no);
                    self.root()?;
                    self.document_end(line.no);
                }
            }
        }
        self.sink.event(Event::StreamEnd, self.lines.no.max(1));
        Some(())
    }

    fn document_end(&mut self, line: usize) {
        if self.lines.peek().is_some_and(|l| l.kind == Kind::End) {
            self.lines.next();
        }
        self.sink.event(Event::DocumentEnd, line);
    }

    /// A document's node: a block mapping or sequence (a lone scalar is
    /// left to yaml-rust2), and nothing after it but a marker.
    fn root(&mut self) -> Option<()> {
        let line = self.lines.peek()?;
        if is_dash(line.body) {
            self.sequence(line.indent, false)?;
        } else {
            self.mapping(line.indent, None)?;
        }
        match self.lines.peek() {
            Some(l) if l.kind == Kind::Content => None,
            _ => Some(()),
        }
    }

    /// The next line if it is content at `indent`; `Some(None)` when the
    /// collection at `indent` ends before it; `None` (decline) when it is
    /// deeper, which nothing here expects.
    fn at(&mut self, indent: usize) -> Option<Option<Line<'t>>> {
        match self.lines.peek() {
            Some(l) if l.kind == Kind::Content => match l.indent.cmp(&indent) {
                std::cmp::Ordering::Less => Some(None),
                std::cmp::Ordering::Equal => Some(Some(l)),
                std::cmp::Ordering::Greater => None,
            },
            _ => Some(None),
        }
    }

    fn open(&mut self, ev: Event, line: usize) -> Option<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return None;
        }
        self.sink.event(ev, line);
        Some(())
    }

    fn close(&mut self, ev: Event, line: usize) {
        self.depth -= 1;
        self.sink.event(ev, line);
    }

    fn scalar(&mut self, text: Cow<'t, str>, style: TScalarStyle, line: usize) {
        self.sink.scalar(text, style, line);
    }

    /// The empty scalar yaml-rust2 reads where a value is missing.
    fn null(&mut self, line: usize) {
        self.scalar(Cow::Borrowed(""), TScalarStyle::Plain, line);
    }

    /// A block mapping whose entries are the lines at column `indent`;
    /// `first` is its first entry when it starts inside a `- ` line.
    fn mapping(&mut self, indent: usize, first: Option<(usize, &'t str)>) -> Option<()> {
        let start = match first {
            Some((no, _)) => no,
            None => self.lines.peek()?.no,
        };
        self.open(Event::MappingStart(0, None), start)?;
        if let Some((no, entry)) = first {
            self.entry(no, entry, indent)?;
        }
        let mut last = start;
        while let Some(line) = self.at(indent)? {
            if is_dash(line.body) {
                return None;
            }
            self.lines.next();
            self.entry(line.no, line.body, indent)?;
            last = line.no;
        }
        self.close(Event::MappingEnd, last);
        Some(())
    }

    /// `key: value` of a mapping at column `indent`, the value on the
    /// line or below it.
    fn entry(&mut self, no: usize, s: &'t str, indent: usize) -> Option<()> {
        let (key, style, rest) = key(s)?;
        self.scalar(key, style, no);
        let value = rest.trim_start_matches(' ');
        if value.is_empty() || value.starts_with('#') {
            self.block_value(no, indent)
        } else {
            self.inline(no, value, indent)
        }
    }

    /// The value of a key that ends its line: a collection on the lines
    /// below (a sequence may start at the key's own column), or null.
    fn block_value(&mut self, no: usize, indent: usize) -> Option<()> {
        match self.lines.peek() {
            Some(l) if l.kind == Kind::Content && l.indent > indent => {
                if is_dash(l.body) {
                    self.sequence(l.indent, false)
                } else {
                    self.mapping(l.indent, None)
                }
            }
            Some(l) if l.kind == Kind::Content && l.indent == indent && is_dash(l.body) => {
                self.sequence(indent, true)
            }
            _ => {
                self.null(no);
                Some(())
            }
        }
    }

    /// A block sequence of the `- ` lines at column `indent`. An
    /// `indentless` one (at its key's column) ends at the next key there.
    fn sequence(&mut self, indent: usize, indentless: bool) -> Option<()> {
        let start = self.lines.peek()?.no;
        self.open(Event::SequenceStart(0, None), start)?;
        let mut last = start;
        while let Some(line) = self.at(indent)? {
            if !is_dash(line.body) {
                if indentless {
                    break;
                }
                return None;
            }
            self.lines.next();
            self.item(line.no, line.body, indent)?;
            last = line.no;
        }
        self.close(Event::SequenceEnd, last);
        Some(())
    }

    /// One `- ` line of a sequence at column `indent`: a scalar or `{}`/`[]`,
    /// or the first entry of a mapping whose column is that of its key.
    fn item(&mut self, no: usize, body: &'t str, indent: usize) -> Option<()> {
        let value = body.get(1..)?.trim_start_matches(' ');
        // An item on the lines below (`-` alone), a nested `- - x`.
        if value.is_empty() || value.starts_with('#') || is_dash(value) {
            return None;
        }
        if key(value).is_some() {
            let column = indent + body.len() - value.len();
            self.mapping(column, Some((no, value)))
        } else {
            self.inline(no, value, indent)
        }
    }

    /// A value that starts on its line (`value`, non-empty) and ends there:
    /// nothing may follow below it deeper than `indent`, where yaml-rust2
    /// would continue a plain scalar or fail.
    fn inline(&mut self, no: usize, value: &'t str, indent: usize) -> Option<()> {
        match value.as_bytes()[0] {
            b'[' if !value.starts_with("[]") => {
                let (items, end) = flow_sequence(value)?;
                trailing(&value[end..])?;
                self.open(Event::SequenceStart(0, None), no)?;
                for (text, style) in items {
                    self.scalar(text, style, no);
                }
                self.close(Event::SequenceEnd, no);
            }
            c @ (b'{' | b'[') => {
                let (open, close, pair) = if c == b'{' {
                    (Event::MappingStart(0, None), Event::MappingEnd, "{}")
                } else {
                    (Event::SequenceStart(0, None), Event::SequenceEnd, "[]")
                };
                let after = value.strip_prefix(pair)?;
                trailing(after)?;
                self.open(open, no)?;
                self.close(close, no);
            }
            b'"' | b'\'' => {
                let (text, style, end) = quoted(value)?;
                trailing(&value[end..])?;
                self.scalar(text, style, no);
            }
            _ => {
                if !plain_start(value) {
                    return None;
                }
                let (end, stop) = plain(value);
                if stop == Stop::Colon {
                    // `a: b: c`
                    return None;
                }
                let text = value[..end].trim_end_matches(' ');
                self.scalar(Cow::Borrowed(text), TScalarStyle::Plain, no);
            }
        }
        match self.lines.peek() {
            Some(l) if l.kind == Kind::Content && l.indent > indent => None,
            _ => Some(()),
        }
    }
}

/// A flow sequence of scalars closed on its line (`["a", "b"]`, `[80, 443]`):
/// its items and where it ends (after the `]`). Plain items are only
/// words (letters, digits, `-._/+`, not starting with a sign but `-1`);
/// an empty or spaced `[ ]`, a trailing comma, a key or anything else is
/// left to yaml-rust2.
#[allow(clippy::type_complexity)]
fn flow_sequence(s: &str) -> Option<(Vec<(Cow<'_, str>, TScalarStyle)>, usize)> {
    let b = s.as_bytes();
    let spaces = |mut i: usize| {
        while b.get(i) == Some(&b' ') {
            i += 1;
        }
        i
    };
    let mut items = Vec::new();
    let mut i = 1;
    loop {
        i = spaces(i);
        let rest = &s[i..];
        let (text, style, len) = match *b.get(i)? {
            b'"' | b'\'' => quoted(rest)?,
            c => {
                let word = |c: &u8| c.is_ascii_alphanumeric() || b"-._/+".contains(c);
                let len = rest.bytes().take_while(word).count();
                let sign = c == b'-'
                    && rest
                        .as_bytes()
                        .get(1)
                        .is_some_and(u8::is_ascii_alphanumeric);
                if len == 0 || !(c.is_ascii_alphanumeric() || sign) {
                    return None;
                }
                (Cow::Borrowed(&rest[..len]), TScalarStyle::Plain, len)
            }
        };
        items.push((text, style));
        i = spaces(i + len);
        match *b.get(i)? {
            b',' => i += 1,
            b']' => return Some((items, i + 1)),
            _ => return None,
        }
    }
}

/// After a flow collection or a quoted scalar: spaces, then a comment or
/// the end of the line (`"a"#x` is an error to yaml-rust2).
fn trailing(after: &str) -> Option<()> {
    if after.is_empty() {
        return Some(());
    }
    let rest = after.trim_start_matches(' ');
    (rest.len() < after.len() && (rest.is_empty() || rest.starts_with('#'))).then_some(())
}

/// The key at the start of `s` (plain, or quoted and closed on the line),
/// its style, and what follows its `:` (empty, or starting with a space).
pub(super) fn key(s: &str) -> Option<(Cow<'_, str>, TScalarStyle, &str)> {
    let (text, style, end) = if matches!(s.as_bytes()[0], b'"' | b'\'') {
        quoted(s)?
    } else {
        if !plain_start(s) {
            return None;
        }
        let (end, stop) = plain(s);
        // `a : b` is a key too, but one left to yaml-rust2.
        if stop != Stop::Colon || s[..end].ends_with(' ') {
            return None;
        }
        (Cow::Borrowed(&s[..end]), TScalarStyle::Plain, end)
    };
    if end > MAX_KEY {
        return None;
    }
    let rest = s[end..].strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ')).then_some((text, style, rest))
}

/// Whether a plain scalar may start with `s`: not with an indicator
/// (`-`, `?` and `:` only when a non-space follows them).
fn plain_start(s: &str) -> bool {
    let b = s.as_bytes();
    match b[0] {
        b'[' | b']' | b'{' | b'}' | b',' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' | b' ' => false,
        b'-' | b'?' | b':' => b.len() > 1 && b[1] != b' ',
        _ => true,
    }
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Stop {
    /// The end of the line.
    Line,
    /// ` #`
    Comment,
    /// `: ` or a `:` ending the line: the scalar was a key.
    Colon,
}

/// Where the plain scalar at the start of the line `s` ends (trailing
/// spaces included) and why. In block context only `: `, a final `:` and
/// ` #` end it; flow indicators are ordinary characters there.
fn plain(s: &str) -> (usize, Stop) {
    let b = s.as_bytes();
    for i in 0..b.len() {
        match b[i] {
            b':' if i + 1 == b.len() || b[i + 1] == b' ' => return (i, Stop::Colon),
            b'#' if i > 0 && b[i - 1] == b' ' => return (i, Stop::Comment),
            _ => {}
        }
    }
    (b.len(), Stop::Line)
}

/// The quoted scalar at the start of `s`, closed on the same line: its
/// text, its style and where it ends (after the closing quote).
fn quoted(s: &str) -> Option<(Cow<'_, str>, TScalarStyle, usize)> {
    if s.starts_with('\'') {
        single_quoted(s)
    } else {
        double_quoted(s)
    }
}

fn single_quoted(s: &str) -> Option<(Cow<'_, str>, TScalarStyle, usize)> {
    let b = s.as_bytes();
    let mut i = 1;
    let mut owned: Option<String> = None;
    let mut from = 1;
    loop {
        let q = i + s[i..].find('\'')?;
        if b.get(q + 1) == Some(&b'\'') {
            // `''` is one quote.
            owned.get_or_insert_with(String::new).push_str(&s[from..=q]);
            i = q + 2;
            from = i;
            continue;
        }
        let text = match owned {
            Some(mut o) => {
                o.push_str(&s[from..q]);
                Cow::Owned(o)
            }
            None => Cow::Borrowed(&s[1..q]),
        };
        return Some((text, TScalarStyle::SingleQuoted, q + 1));
    }
}

fn double_quoted(s: &str) -> Option<(Cow<'_, str>, TScalarStyle, usize)> {
    let b = s.as_bytes();
    let end = 1 + s[1..].find(['"', '\\'])?;
    if b[end] == b'"' {
        return Some((
            Cow::Borrowed(&s[1..end]),
            TScalarStyle::DoubleQuoted,
            end + 1,
        ));
    }
    let mut text = String::from(&s[1..end]);
    let mut i = end;
    loop {
        let j = i + s[i..].find(['"', '\\'])?;
        text.push_str(&s[i..j]);
        if b[j] == b'"' {
            return Some((Cow::Owned(text), TScalarStyle::DoubleQuoted, j + 1));
        }
        let (c, len) = escape(&s[j + 1..])?;
        text.push(c);
        i = j + 1 + len;
    }
}

/// The character a `\` escape stands for (`s` follows the backslash) and
/// how many bytes of `s` it takes: exactly yaml-rust2's escapes; a `\` at
/// the end of the line (a line break escaped) is left to it.
fn escape(s: &str) -> Option<(char, usize)> {
    let c = match *s.as_bytes().first()? {
        b'0' => '\0',
        b'a' => '\x07',
        b'b' => '\x08',
        b't' => '\t',
        b'n' => '\n',
        b'v' => '\x0b',
        b'f' => '\x0c',
        b'r' => '\r',
        b'e' => '\x1b',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{a0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' => return hex(s, 2),
        b'u' => return hex(s, 4),
        b'U' => return hex(s, 8),
        _ => return None,
    };
    Some((c, 1))
}

/// `\xHH`, `\uHHHH`, `\UHHHHHHHH`: a valid character, not a surrogate.
fn hex(s: &str, digits: usize) -> Option<(char, usize)> {
    let h = s.get(1..1 + digits)?;
    if !h.bytes().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let c = char::from_u32(u32::from_str_radix(h, 16).ok()?)?;
    Some((c, 1 + digits))
}
