//! A YAML List (`kubectl get ... -o yaml`) read item by item, in
//! parallel: the block sequence under its top-level `items:` is cut at its
//! `- ` lines, each item read by the fast path as a document of its own
//! (its lines those of the whole text, its paths under `items[i]`), and
//! the rest of the text (the List without its items) read once. The loader
//! converts and drops the items as it goes, as it does for a JSON List, and
//! reads its Pods from the fast path's events straight into the typed Pod.
//!
//! Anything in doubt (the text or an item outside the fast path's subset,
//! a second document, a List that is not one) leaves the whole text to the
//! whole-text path, after the budget is given back what the List took.

use std::sync::atomic::{AtomicUsize, Ordering};

use super::fast::{self, Kind, Lines, is_dash};
use super::tokens::{Cursor, Tokens};
use super::{Budget, Builder, Document, child_index};

pub struct LargeList<'t> {
    /// Each item's lines, and the line it starts on.
    items: Vec<(&'t str, usize)>,
    /// The column of the items' `- `.
    column: usize,
    /// What the List and its items have taken from the budget so far.
    charged: (AtomicUsize, AtomicUsize),
}

impl LargeList<'_> {
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Gives back to `budget` all that the List took, before the whole
    /// text is read (and charged) again.
    pub fn give_back(&self, budget: &Budget) {
        budget.refund(
            self.charged.0.load(Ordering::Relaxed),
            self.charged.1.load(Ordering::Relaxed),
        );
    }

    fn charge(&self, budget: &Budget, (nodes, bytes): (usize, usize)) -> Option<()> {
        if !budget.try_charge(nodes, bytes) {
            return None;
        }
        self.charged.0.fetch_add(nodes, Ordering::Relaxed);
        self.charged.1.fetch_add(bytes, Ordering::Relaxed);
        Some(())
    }
}

/// `text` as a [`LargeList`] when it is one document, an object of a
/// `*List` kind with an apiVersion and more than `min_items` items in a
/// block sequence, all of it but the items read (and charged) by the fast
/// path. `None` for anything else.
pub fn large_list<'t>(text: &'t str, min_items: usize, budget: &Budget) -> Option<LargeList<'t>> {
    // Every YAML file is asked: one without the word is no List, and is
    // not scanned twice (here and by the whole-text path). A key spelled
    // with escapes is missed, and read whole, with the same result.
    if !text.contains("items") || !fast::plain_text(text) {
        return None;
    }
    let (start, end, column, items) = items_block(text)?;
    if items.len() <= min_items {
        return None;
    }
    let list = LargeList {
        items,
        column,
        charged: Default::default(),
    };
    list.charge(budget, shell(text, start, end)?)?;
    Some(list)
}

/// Where the block sequence of the top-level `items:` is (from its first
/// line's start to the start of the first line after it), its column, and
/// its items.
#[allow(clippy::type_complexity)]
fn items_block(text: &str) -> Option<(usize, usize, usize, Vec<(&str, usize)>)> {
    let mut lines = Lines::new(text, 1);
    // The first `items:` at column 0; a second one is a duplicate key,
    // which the rest of the text, read as a document, reports. A document
    // before it is no List of one document: given up at once, before the
    // text is read for nothing.
    let mut content = false;
    loop {
        let line = lines.next()?;
        match line.kind {
            Kind::Content => content = true,
            Kind::Start if !content => continue,
            Kind::Start | Kind::End => return None,
        }
        if line.indent != 0 {
            continue;
        }
        let Some((key, _, rest)) = fast::key(line.body) else {
            continue;
        };
        let rest = rest.trim_start_matches(' ');
        if key == "items" && (rest.is_empty() || rest.starts_with('#')) {
            break;
        }
    }
    let first = lines.peek()?;
    if first.kind != Kind::Content || !is_dash(first.body) {
        return None;
    }
    let column = first.indent;
    // Each item from its `- ` line to the next one at its column; the
    // sequence ends at a line left of it, or at it without a `- `.
    let mut starts = Vec::new();
    let end = loop {
        let Some(line) = lines.peek() else {
            break text.len();
        };
        let inside = line.kind == Kind::Content
            && (line.indent > column || line.indent == column && is_dash(line.body));
        if !inside {
            break line.start;
        }
        if line.indent == column {
            starts.push((line.start, line.no));
        }
        lines.next();
    };
    if lines.bad {
        return None;
    }
    let items = starts
        .iter()
        .enumerate()
        .map(|(i, &(at, no))| {
            let to = starts.get(i + 1).map_or(end, |&(next, _)| next);
            (&text[at..to], no)
        })
        .collect();
    Some((first.start, end, column, items))
}

/// Reads `text` without its items' lines (`start..end`): it must be one
/// List document whose `items` is then empty (null). Its cost, which with
/// its items' is the whole text's (a null costs what the sequence did: one
/// node). Only its value and cost are kept, so its lines need not be the
/// text's.
fn shell(text: &str, start: usize, end: usize) -> Option<(usize, usize)> {
    let mut shell = String::with_capacity(text.len() - (end - start));
    shell.push_str(&text[..start]);
    shell.push_str(&text[end..]);
    let mut builder = Builder::default();
    fast::events(&shell, &mut builder)?;
    if builder.error.is_some() || builder.docs.len() != 1 || builder.docs[0].index != 1 {
        return None;
    }
    let obj = builder.docs[0].value.as_object()?;
    let is_list = obj.get("kind")?.as_str()?.ends_with("List")
        && obj.get("apiVersion")?.is_string()
        && obj.get("items")?.is_null();
    is_list.then_some(builder.used)
}

/// Item `index` of a [`LargeList`], its events kept to be read into a
/// type or into a document, and charged to `budget`; `None` when it is not
/// one the fast path reads, or not an object, or the budget cannot take
/// it: the whole text must then be read after [`LargeList::give_back`].
pub fn list_item_tokens<'t>(
    list: &LargeList<'t>,
    index: usize,
    budget: &Budget,
) -> Option<ListItem<'t>> {
    let (text, line) = list.items[index];
    let mut tokens = Tokens::for_text(text);
    fast::item_events(text, line, list.column, &mut tokens)?;
    // An item that is not an object is an error of the whole-text path's.
    if !tokens.is_mapping() {
        return None;
    }
    let cost = tokens.cost();
    list.charge(budget, cost)?;
    Some(ListItem {
        tokens,
        index,
        line,
        cost,
    })
}

/// Item `index` of a [`LargeList`] as a document of its own, whose lines
/// answer for paths under `items[index]`; `None` as for
/// [`list_item_tokens`].
pub fn list_item(list: &LargeList, index: usize, budget: &Budget) -> Option<Document> {
    list_item_tokens(list, index, budget)?.document()
}

/// One item of a List, read by the fast path and charged.
pub struct ListItem<'t> {
    tokens: Tokens<'t>,
    index: usize,
    line: usize,
    cost: (usize, usize),
}

impl<'t> ListItem<'t> {
    pub fn index(&self) -> usize {
        self.index
    }

    /// The line its `- ` is on.
    pub fn line(&self) -> usize {
        self.line
    }

    pub(crate) fn head(&self) -> Option<crate::json::Head<'_>> {
        self.tokens.head()
    }

    /// A deserializer of the item, for reading it straight into a type.
    pub(crate) fn de(&self) -> Cursor<'_, 't> {
        self.tokens.de()
    }

    /// The item as a document of its own, whose lines answer for paths
    /// under `items[index]`; `None` when the builder refuses it (a
    /// duplicate key): the whole text then reports it.
    pub fn document(self) -> Option<Document> {
        let mut builder = Builder::default();
        self.tokens.replay(&mut builder);
        if builder.error.is_some() || builder.docs.len() != 1 {
            return None;
        }
        debug_assert_eq!(builder.used, self.cost, "what the item was charged");
        let mut doc = builder.docs.pop()?;
        let mut lines = std::sync::Arc::into_inner(doc.lines)?;
        lines.prefix = child_index("items", self.index);
        doc.lines = std::sync::Arc::new(lines);
        Some(doc)
    }
}
